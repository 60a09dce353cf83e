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
   * is given) and, when the gateway announces the token's expiry (`exp`), halfway through what is
   * left of it (or 30 s before it, when that is later): a new token is sent as
   * {"action":"refresh"}, once; the session's own token handed back again (a cache) is not sent,
   * and getToken is asked again halfway through what is then left.
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
   * Milliseconds to gather acks into one frame (default 1000; 100 waiting acks go at once). 0 acks
   * each notification as soon as its handlers returned: acks of delivered messages are free.
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
  /** The user's inbox counts: stored messages not seen, not read. */
  unseen: number;
  unread: number;
}

/** The user's inbox counts (after connected, reset, and every change: a mark on any device, a new message). */
export interface InboxCounts {
  unseen: number;
  unread: number;
}

/** A mark: the state (with the states it implies) and exactly one of seq, upTo, all. */
export interface Mark {
  state: 'seen' | 'read' | 'archived';
  seq?: number;
  upTo?: number;
  all?: true;
  /** The epoch the seqs belong to (a notification's); default: the session's. */
  epoch?: string;
}

export interface DisconnectedEvent {
  /** The close code (CLOSE_CODES; 1006 also when the client gave the connection up, 1000 after close()). */
  code: CloseCode | 1000;
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
 * (invalid_argument, resource_exhausted, ...), the name of a close code that is an error
 * (CLOSE_CODES: frame_too_big, revoked, too_many_sessions, rate_limited, or token_expired without
 * getToken), or the client's own: get_token, storage, bad_frame. `fatal` errors end the client.
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
  inbox: InboxCounts;
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
  /** The inbox counts the gateway sent last. */
  readonly counts: InboxCounts;
  /**
   * Marks messages of the user's inbox on every device: returns false when no session is open (mark
   * again after connected). A bad mark comes back as an error event (not_found: the seq is not stored).
   */
  mark(mark: Mark): boolean;
  /** Marks a notification read. */
  markRead(notification: Notification): boolean;
}

/** Opens a client that stays connected, resuming where it left off, until close(). */
export function connect(options: ConnectOptions): GatewayClient;

/** What a client knows when a session or a handshake ended (decide's input). */
export interface Attempt {
  code: number;
  /** The HTTP status of a refused handshake (0: not refused). */
  status?: number;
  retryAfterMs?: number;
  wasOpen?: boolean;
  /** Reconnects since the last connected frame. */
  attempts?: number;
  advice?: ReconnectAdvice;
  /** The client can get a fresh token (getToken). */
  tokenSource?: boolean;
  /** A random number in [0, 1) for the jitter (default Math.random()). */
  random?: number;
}

/** The reconnect rule: reconnect or stop, after how many ms (every reconnect resumes from the position). */
export function decide(attempt: Attempt): { reconnect: boolean; delayMs: number };

/** The refresh rule: ms until a token with leftMs to live is refreshed, or null when too little is left. */
export function refreshDelay(leftMs: number): number | null;

// <protocol:types>
// Generated from pkg/protocol (make protocol): do not edit.
/**
 * A close code the gateway sends (and 1006: no close frame):
 * - 1001 `draining`: the node is draining (SIGTERM); its sessions are closed spread over ws.drain_window; reconnect at once (the next URL), with its position.
 * - 1006 `connection_lost`: no close frame: the connection broke, timed out, or was given up by the client (never sent by the server); reconnect after the backoff, with its position.
 * - 1009 `frame_too_big`: a client frame was larger than ws.max_message_bytes; reconnect after the advised `max_ms`, with its position.
 * - 1013 `try_again`: the node cannot reach Redis right now; reconnect after the backoff, with its position.
 * - 4000 `slow_consumer`: slow consumer: the session's send queue stayed full for ws.slow_timeout; reconnect after the backoff, with its position.
 * - 4001 `token_expired`: the token's exp passed without a refresh; reconnect at once with a fresh token and its position (stop without a token source).
 * - 4002 `behind_history`: while catching up, the session fell behind the stored history (more than history.size messages, or older than history.ttl); the resume says truncated; reconnect after the backoff, with its position.
 * - 4003 `revoked`: an operator disconnected the user (POST /api/users/{id}/disconnect); handshakes may be refused until the operator's until; reconnect after the advised `max_ms`, with its position.
 * - 4008 `too_many_sessions`: the user opened more than limits.sessions_per_user sessions and this was the oldest; not reconnect.
 * - 4029 `rate_limited`: the client kept sending costly frames after an error frame told it to wait; reconnect after the backoff, with its position.
 */
export type CloseCode = 1001 | 1006 | 1009 | 1013 | 4000 | 4001 | 4002 | 4003 | 4008 | 4029;
/** What a client does after a close code. */
export type CloseAdvice = 'resume_now' | 'resume' | 'resume_late' | 'fresh_token' | 'stop';
export interface CloseCodeInfo {
  name: string;
  reason: string;
  advice: CloseAdvice;
  error: boolean;
}
/** Every close code: its name, the close frame's text, what a client does. */
export const CLOSE_CODES: Readonly<Record<CloseCode, Readonly<CloseCodeInfo>>>;
/** Refused handshakes by HTTP status: retry after the backoff, retry only with a token source, or stop. */
export const HANDSHAKE_STATUSES: Readonly<Record<number, Readonly<{ retry: boolean; tokenRetry: boolean }>>>;
// </protocol:types>
