// Types of gateway-client.js, the JavaScript client of the house-viewing
// push gateway (served next to it at /web/gateway-client.d.ts).

/** The reconnect policy the gateway advises in its connected frame. */
export interface ReconnectAdvice {
  base_ms: number;
  max_ms: number;
  jitter: number;
}

/** The subset of the Web Storage interface the client uses (localStorage fits). */
export interface PositionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ConnectOptions {
  /**
   * Base URL of a node or load balancer, ws(s):// or http(s):// ("/ws" is added unless the path
   * ends with it), or a list: every reconnect tries the next one. Default in a browser page: the
   * page's own host.
   */
  url?: string | string[];
  /** Insecure mode: the user to connect as. */
  userId?: number | string;
  /** Jwt mode: the token of the first connection. */
  token?: string;
  /**
   * Jwt mode: returns a fresh token. Called before every connection (but the first when `token`
   * is given) and, when the gateway announces the token's expiry (`exp`), before it expires: the
   * new token is sent as {"action":"refresh"}.
   */
  getToken?: () => string | Promise<string>;
  /** Resume after this seq (default: the stored position, else the user's delivered cursor). */
  lastSeq?: number;
  /** The epoch `lastSeq` belongs to. */
  epoch?: string;
  /**
   * Keeps the position per user under "gateway:pos:<user>" as {"epoch","seq"} (e.g. localStorage).
   * In jwt mode the user is read from the token's `sub`, else from the connected frame.
   */
  storage?: PositionStorage;
  /**
   * Acknowledge processed notifications (default true): the session opens with ack=1 and only
   * the client's acks advance the user's delivered cursor. A notification counts as processed
   * when its handlers have returned.
   */
  ack?: boolean;
  /**
   * Milliseconds to gather acks into one frame (default 1000). 100 waiting acks go sooner, but
   * never more than 4 ack frames a second (the gateway limits the frames a client sends).
   */
  ackInterval?: number;
  /**
   * Milliseconds without any frame after which the client sends {"action":"ping"}
   * (default min(20000, heartbeat_ms of the connected frame)).
   */
  pingInterval?: number;
  /**
   * Milliseconds a ping may wait for any frame before the connection is taken for dead (a
   * half-open one), dropped and replaced (default 10000). A dead connection is noticed within
   * pingInterval + pongTimeout.
   */
  pongTimeout?: number;
  /** Milliseconds from opening a connection to its connected frame (default 10000). */
  connectTimeout?: number;
  /** The WebSocket constructor (default the global one; Node 20 needs --experimental-websocket). */
  WebSocket?: typeof WebSocket;
}

/** A notification: the gateway's message with its position. */
export interface Notification {
  seq: number;
  epoch: string;
  /** Publish time, unix milliseconds (Redis's clock). */
  ts: number;
  id: string;
  /** 1 created, 2 confirmed, 3 cancelled, 4 reminder, 5 rejected, 6 server push. */
  type: number;
  user_id: number;
  reservation_id?: number;
  title: string;
  content: string;
  /** Unix seconds. */
  timestamp: number;
  detail?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ConnectedEvent {
  nodeId: string;
  userId: number;
  epoch: string;
  /** The seq the replay continues after. */
  lastSeq: number;
  /** The user's newest seq when the session opened. */
  headSeq: number;
  /** Messages after the client's position were trimmed: the replay starts later. */
  truncated: boolean;
  /** The position belonged to a stream Redis lost: a reset event follows. */
  reset: boolean;
  /** Unix seconds the session's token expires at (jwt mode, when the gateway announces it). */
  exp?: number;
  /** The /ws URL of this connection. */
  url: string;
}

export interface DisconnectedEvent {
  /**
   * The close code: 1001 node draining, 1013 try again later, 4000 slow consumer, 4001 token
   * expired, 4003 disconnected by an operator (reconnects after the advised max_ms), 4008 too many
   * sessions of the user, 4029 too many client frames; 1006 for a connection that failed, broke, or
   * was given up by the client (see reason); 1000 after close().
   */
  code: number;
  reason: string;
  /** Whether the connection had received its connected frame. */
  wasOpen: boolean;
  /** False after close(), a refused handshake, 4008, or 4001 without getToken. */
  willReconnect: boolean;
  /** Milliseconds until the next attempt (the gateway's backoff advice). */
  delayMs: number;
}

/** The user's stream was recreated under a new epoch: the old position is void. */
export interface ResetEvent {
  epoch: string;
  previousEpoch: string;
  /** The new epoch's messages after this seq follow. */
  lastSeq: number;
  headSeq: number;
  truncated: boolean;
}

/**
 * An error: the gateway's code for a refused handshake (status set) or an error frame
 * (invalid_argument, ...), or the client's: token_expired, revoked, too_many_sessions,
 * frame_too_big, get_token, storage, bad_frame, gap. `fatal` errors end the client.
 */
export interface GatewayError extends Error {
  code: string;
  fatal: boolean;
  /** The HTTP status of a refused handshake. */
  status?: number;
  /** The close code that caused it. */
  closeCode?: number;
}

export interface ClientEvents {
  notification: Notification;
  connected: ConnectedEvent;
  disconnected: DisconnectedEvent;
  reset: ResetEvent;
  error: GatewayError | Error;
}

export interface Position {
  epoch: string;
  /** null until the first connected frame when none was given or stored. */
  lastSeq: number | null;
}

export interface GatewayClient {
  /** Adds a handler; returns a function that removes it. */
  on<E extends keyof ClientEvents>(event: E, handler: (arg: ClientEvents[E]) => void): () => void;
  /** Closes the connection (acks what was processed first) and stops reconnecting. */
  close(): void;
  /** The position processed last. */
  readonly position: Position;
  readonly state: 'connecting' | 'open' | 'waiting' | 'closed';
  /** The node of the last connected frame. */
  readonly nodeId: string | null;
  readonly userId: string | null;
}

/** Opens a client that stays connected, resuming where it left off, until close(). */
export function connect(options: ConnectOptions): GatewayClient;
