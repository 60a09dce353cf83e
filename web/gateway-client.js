// JavaScript client of the house-viewing push gateway: an ES module with no
// dependencies and no build step, for browsers and Node 20+ (Node 20 needs
// --experimental-websocket for the global WebSocket). Served by every node
// at /web/gateway-client.js; types in gateway-client.d.ts next to it.
//
//   import { connect } from '/web/gateway-client.js';
//   const client = connect({ url: 'ws://localhost:8080', userId: 1001, storage: localStorage });
//   client.on('notification', (m) => console.log(m.seq, m.title, m.content));
//
// It keeps one WebSocket open: it resumes after every close with the last
// (epoch, seq) it processed, backs off as the gateway advises, rotates
// through the given URLs, drops duplicates, follows stream resets, acks in
// batches, refreshes its token and pings so that a half-open connection is
// noticed. The wire protocol is described in the README ("WebSocket").

/**
 * @typedef {{base_ms: number, max_ms: number, jitter: number}} ReconnectAdvice
 * @typedef {{epoch: string, lastSeq: number | null}} Position
 * @typedef {Error & {code: string, fatal: boolean, status?: number, closeCode?: number}} GatewayError
 *
 * @typedef {Object} ConnectOptions
 * @property {string | string[]} [url] ws(s):// or http(s):// base of a node or load balancer
 *   ("/ws" is added unless the path ends with it), or a list tried in turn (the next one on every
 *   reconnect). Default in a browser: the page's own host.
 * @property {number | string} [userId] insecure mode: the user to connect as.
 * @property {string} [token] jwt mode: the token of the first connection.
 * @property {() => string | Promise<string>} [getToken] jwt mode: returns a fresh token; called
 *   before every connection (but the first when token is given) and before the token expires.
 * @property {number} [lastSeq] resume after this seq (default: the stored position, if any).
 * @property {string} [epoch] the epoch lastSeq belongs to.
 * @property {Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>} [storage] keeps the position per
 *   user under "gateway:pos:<user>" (e.g. localStorage).
 * @property {boolean} [ack] acknowledge processed notifications (default true).
 * @property {number} [ackInterval] ms to gather acks into one frame (default 1000).
 * @property {number} [pingInterval] ms of silence before a ping (default min(20000, heartbeat_ms)).
 * @property {number} [pongTimeout] ms a ping may wait for any frame before the connection is
 *   given up and replaced (default 10000).
 * @property {number} [connectTimeout] ms from opening to the connected frame (default 10000).
 * @property {typeof WebSocket} [WebSocket] constructor to use (default the global one).
 */

const DEFAULT_ADVICE = { base_ms: 500, max_ms: 30000, jitter: 0.5 };
const EVENTS = ['notification', 'connected', 'disconnected', 'reset', 'error'];
const ACK_BATCH = 100; // ack soon when this many notifications wait for an ack
const ACK_GAP = 250; // ms between ack frames at least: the gateway limits client frames per second
const MAX_TIMER = 2 ** 31 - 1; // setTimeout's largest delay

/**
 * Opens a client that stays connected until close(). Handlers added with
 * on() right after this call see every event.
 * @param {ConnectOptions} options
 * @returns {import('./gateway-client').GatewayClient}
 */
export function connect(options = {}) {
  const o = {
    ...options,
    ack: options.ack !== false,
    ackInterval: positive(options.ackInterval, 1000),
    pingInterval: positive(options.pingInterval, 0), // 0: from heartbeat_ms
    pongTimeout: positive(options.pongTimeout, 10000),
    connectTimeout: positive(options.connectTimeout, 10000),
  };
  const WS = o.WebSocket || globalThis.WebSocket;
  if (!WS) throw new TypeError('gateway-client: no WebSocket (Node 20 needs --experimental-websocket)');
  if (o.userId == null && !o.token && !o.getToken) {
    throw new TypeError('gateway-client: userId (insecure mode) or token / getToken (jwt mode) is needed');
  }
  const urls = [].concat(o.url ?? defaultURL()).map(wsBase);
  if (urls.length === 0) throw new TypeError('gateway-client: url is empty');

  /** @type {Record<string, Function[]>} */
  const handlers = Object.fromEntries(EVENTS.map((e) => [e, []]));
  let user = o.userId != null ? String(o.userId) : null;
  let token = o.token || null;
  /** @type {Position} */
  let pos = { epoch: '', lastSeq: null };
  let loaded = false; // the stored position was read (needs the user)
  let advice = DEFAULT_ADVICE, attempt = 0, urlIndex = 0;
  /** @type {'connecting' | 'open' | 'waiting' | 'closed'} */
  let state = 'connecting';
  let ws = null, gen = 0, isOpen = false, firstOpen = true;
  let nodeId = null, heartbeatMs = 0, lastFrameAt = 0, pingSentAt = 0, watchDueAt = 0, graced = false;
  let sessionMax = 0; // highest seq the server sent on this connection (acks may not exceed it)
  let acked = { epoch: '', seq: 0 };
  let retryTimer, watchTimer, ackTimer, refreshTimer, ackDueAt = 0, lastAckAt = 0;

  if (o.lastSeq != null) {
    pos = { epoch: o.epoch || '', lastSeq: o.lastSeq };
    loaded = true;
  }
  // open with its failures reported (there are none by design)
  const run = () => open().catch((err) => emit('error', err));
  Promise.resolve().then(run); // after the caller's on() calls

  // ---- events ----

  function emit(event, arg) {
    for (const fn of handlers[event].slice()) {
      try {
        fn(arg);
      } catch (err) {
        if (event !== 'error' && handlers.error.length) emit('error', err);
        else console.error('gateway-client: handler of', event, 'threw', err);
      }
    }
  }

  /** @returns {GatewayError} */
  function fail(code, message, extra = {}) {
    const err = /** @type {GatewayError} */ (new Error(message));
    return Object.assign(err, { code, fatal: false }, extra);
  }

  // ---- position ----

  const key = () => `gateway:pos:${user}`;

  function load() {
    if (loaded || !o.storage || user === null) return;
    loaded = true;
    const p = readPosition(o.storage, key());
    if (p) pos = p;
  }

  function save() {
    if (!o.storage || user === null || pos.lastSeq === null) return;
    try {
      o.storage.setItem(key(), JSON.stringify({ epoch: pos.epoch, seq: pos.lastSeq }));
    } catch (err) {
      emit('error', fail('storage', `gateway-client: storage: ${err}`));
    }
  }

  // ---- connection ----

  async function open() {
    if (state === 'closed') return;
    const my = ++gen;
    state = 'connecting';
    if (o.getToken && !(firstOpen && token)) {
      try {
        token = await o.getToken();
      } catch (err) {
        if (my !== gen) return;
        emit('error', fail('get_token', `gateway-client: getToken failed: ${err}`));
        return retry(1006, 'no token', false);
      }
      if (my !== gen) return;
    }
    firstOpen = false;
    if (user === null && token) user = tokenSubject(token);
    load();
    const base = urls[urlIndex % urls.length];
    let sock;
    try {
      sock = new WS(base + '?' + query());
    } catch (err) {
      return stop(fail('invalid_argument', `gateway-client: ${err}`, { fatal: true }), 1006, String(err));
    }
    ws = sock;
    isOpen = false;
    sessionMax = 0;
    lastFrameAt = Date.now();
    watch(o.connectTimeout);
    sock.onmessage = (e) => { if (ws === sock) onFrame(e.data); };
    sock.onclose = (e) => { if (ws === sock) lost(e.code, e.reason, base); };
    // A failed connection is a close with 1006 (browsers fire close after
    // error; Node 20 may not).
    sock.onerror = () => { if (ws === sock) drop('connection failed', base); };
  }

  function query() {
    const q = new URLSearchParams();
    if (token) q.set('token', token);
    if (o.userId != null) q.set('user_id', String(o.userId));
    if (o.ack) q.set('ack', '1');
    if (pos.lastSeq !== null) {
      q.set('last_seq', String(pos.lastSeq));
      if (pos.epoch) q.set('epoch', pos.epoch);
    }
    return q.toString();
  }

  function send(frame) {
    if (!ws || !isOpen) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // drop gives up the current connection without waiting for its close
  // handshake (a half-open one would never finish it) and reconnects.
  // base, when given, is probed for a refused handshake.
  function drop(reason, base = null) {
    const sock = ws;
    if (!sock) return;
    ws = null;
    try { sock.close(); } catch { /* already closing */ }
    lost(1006, reason, base);
  }

  // lost handles the end of a connection: it reconnects unless the close
  // code or a refused handshake says retrying cannot help.
  async function lost(code, reason, base) {
    const wasOpen = isOpen;
    ws = null;
    isOpen = false;
    clearSession();
    if (state === 'closed') return;
    const my = ++gen;
    state = 'waiting';
    let delay = null; // null: the backoff
    if (!wasOpen && base && typeof fetch === 'function') {
      const refused = await probe(base);
      if (my !== gen) return;
      if (refused) {
        emit('error', refused);
        if (refused.fatal) return stop(null, code, reason);
      }
    }
    switch (code) {
      case 1001: // the node drains, spreading its closes: the next URL at once
        if (wasOpen) delay = 0;
        break;
      case 1009:
        emit('error', fail('frame_too_big', 'gateway-client: the gateway refused a frame as too big'));
        break;
      case 4001: // the token expired: reconnect with a fresh one
        if (!o.getToken) {
          return stop(fail('token_expired', 'gateway-client: the token expired and there is no getToken', { fatal: true, closeCode: code }), code, reason);
        }
        break;
      case 4003: // an operator disconnected the user: reconnect late (a refusal then ends it)
        emit('error', fail('revoked', `gateway-client: the session was revoked: ${reason}`, { closeCode: code }));
        delay = jittered(advice.max_ms);
        break;
      case 4008: // too many sessions of the user: do not fight back
        return stop(fail('too_many_sessions', `gateway-client: closed as the user's oldest session: ${reason}`, { fatal: true, closeCode: code }), code, reason);
    }
    retry(code, reason, wasOpen, delay);
  }

  function retry(code, reason, wasOpen, delay = null) {
    if (state === 'closed') return;
    state = 'waiting';
    if (delay === null) delay = jittered(Math.min(advice.max_ms, advice.base_ms * 2 ** attempt));
    attempt++;
    urlIndex++;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(run, delay);
    emit('disconnected', { code, reason, wasOpen, willReconnect: true, delayMs: delay });
  }

  function jittered(ms) {
    return Math.round(ms * (1 - advice.jitter * Math.random()));
  }

  // stop ends the client for good (close(), or a close code or refusal
  // that retrying cannot help).
  function stop(err, code, reason) {
    if (state === 'closed') return;
    const wasOpen = isOpen;
    flushAck();
    state = 'closed';
    gen++;
    clearTimeout(retryTimer);
    clearSession();
    const sock = ws;
    ws = null;
    isOpen = false;
    if (sock) try { sock.close(1000, 'client closed'); } catch { /* closing */ }
    if (err) emit('error', err);
    emit('disconnected', { code, reason, wasOpen, willReconnect: false, delayMs: 0 });
  }

  function clearSession() {
    clearTimeout(watchTimer);
    clearTimeout(ackTimer);
    clearTimeout(refreshTimer);
    ackTimer = undefined;
  }

  // probe asks the URL of a failed handshake over plain HTTP to read the
  // gateway's refusal (a WebSocket only sees 1006). It returns an error for
  // a refusal, with fatal set when retrying cannot help, or null.
  async function probe(base) {
    let res, body;
    try {
      const url = base.replace(/^ws/, 'http') + '?' + query();
      const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(5000) : undefined;
      res = await fetch(url, { signal, cache: 'no-store' });
      body = await res.json();
    } catch {
      return null; // no answer, not JSON, or not allowed (CORS): keep trying
    }
    const e = body && body.error;
    if (!e || res.status < 400 || res.status >= 500) return null; // 503: draining; try the next
    const message = String(e.message || '');
    // A probe the gateway accepted fails only as "not a WebSocket request".
    if (res.status === 400 && message.startsWith('websocket:')) return null;
    const fatal = [400, 403, 404].includes(res.status) || (res.status === 401 && !o.getToken);
    return fail(String(e.code || 'refused'), `gateway-client: handshake refused (${res.status}): ${message}`,
      { fatal, status: res.status });
  }

  // ---- liveness ----

  function watch(ms) {
    clearTimeout(watchTimer);
    watchDueAt = Date.now() + ms;
    watchTimer = setTimeout(check, Math.max(0, ms));
  }

  function pingInterval() {
    return o.pingInterval || Math.min(20000, heartbeatMs || 20000);
  }

  function check() {
    const now = Date.now();
    // A timer far behind time means this client was frozen or starved (a
    // busy machine, a background tab), not that the network was silent:
    // let frames that came meanwhile be read first, once.
    if (now - watchDueAt > 500 && !graced) {
      graced = true;
      return watch(20);
    }
    graced = false;
    if (!isOpen) return drop('no connected frame within connectTimeout');
    if (pingSentAt > lastFrameAt) {
      if (now - pingSentAt >= o.pongTimeout) return drop('no answer to ping within pongTimeout');
      return watch(o.pongTimeout - (now - pingSentAt));
    }
    const idle = now - lastFrameAt;
    if (idle < pingInterval()) return watch(pingInterval() - idle);
    pingSentAt = now;
    send({ action: 'ping' });
    watch(o.pongTimeout);
  }

  // ---- frames ----

  function onFrame(data) {
    const answered = pingSentAt > lastFrameAt; // a ping was out: count the silence from now
    lastFrameAt = Date.now();
    if (answered && isOpen) watch(pingInterval());
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return emit('error', fail('bad_frame', `gateway-client: a frame is not JSON: ${String(data).slice(0, 100)}`));
    }
    if (typeof f.seq === 'number') return onNotification(f);
    switch (f.event) {
      case 'connected': return onConnected(f);
      case 'reset': return onReset(f);
      case 'refreshed': return scheduleRefresh(f.exp);
      case 'error': return emit('error', fail(String(f.code), `gateway-client: the gateway answered: ${f.message}`));
      // pong and events this version does not know: liveness only
    }
  }

  function onConnected(f) {
    isOpen = true;
    state = 'open';
    attempt = 0;
    nodeId = f.node_id;
    heartbeatMs = f.heartbeat_ms || 0;
    if (f.reconnect && f.reconnect.max_ms > 0) advice = f.reconnect;
    if (user === null) user = String(f.user_id);
    load();
    const previous = pos.epoch;
    const reset = !!f.reset || (previous !== '' && f.epoch !== previous);
    // Same epoch: keep a stored position ahead of the gateway's (what
    // follows up to it are duplicates); a truncated replay starts later.
    const same = !reset && f.epoch === previous && pos.lastSeq !== null;
    pos = { epoch: f.epoch, lastSeq: same ? Math.max(pos.lastSeq, f.last_seq) : f.last_seq };
    sessionMax = f.last_seq;
    save();
    watch(pingInterval());
    emit('connected', {
      nodeId, userId: f.user_id, epoch: f.epoch, lastSeq: f.last_seq, headSeq: f.head_seq,
      truncated: !!f.truncated, reset, exp: f.exp, url: urls[urlIndex % urls.length],
    });
    if (reset) emit('reset', { epoch: f.epoch, previousEpoch: previous, lastSeq: f.last_seq, headSeq: f.head_seq, truncated: !!f.truncated });
    scheduleRefresh(f.exp);
    flushAck();
  }

  function onReset(f) {
    const previous = pos.epoch;
    pos = { epoch: f.epoch, lastSeq: f.last_seq };
    sessionMax = f.last_seq;
    save();
    emit('reset', { epoch: f.epoch, previousEpoch: previous, lastSeq: f.last_seq, headSeq: f.head_seq, truncated: !!f.truncated });
  }

  function onNotification(m) {
    sessionMax = Math.max(sessionMax, m.seq);
    if (m.epoch !== pos.epoch) {
      // Never without a reset frame before it; follow the new epoch anyway.
      onReset({ epoch: m.epoch, last_seq: m.seq - 1, head_seq: m.seq, truncated: false });
    }
    if (pos.lastSeq !== null && m.seq <= pos.lastSeq) return; // a duplicate
    if (pos.lastSeq !== null && m.seq > pos.lastSeq + 1) {
      emit('error', fail('gap', `gateway-client: seq ${pos.lastSeq + 1}..${m.seq - 1} of epoch ${m.epoch} missing`));
    }
    pos = { epoch: m.epoch, lastSeq: m.seq };
    emit('notification', m);
    save();
    scheduleAck();
  }

  // ---- acks ----

  // scheduleAck sends an ack within ackInterval, or as soon as ACK_GAP
  // allows when ACK_BATCH are waiting (a replay of thousands takes a few).
  function scheduleAck() {
    if (!o.ack) return;
    const now = Date.now();
    const waiting = pos.lastSeq - (acked.epoch === pos.epoch ? acked.seq : 0);
    const at = Math.max(waiting >= ACK_BATCH ? now : now + o.ackInterval, lastAckAt + ACK_GAP);
    if (ackTimer !== undefined && ackDueAt <= at) return;
    clearTimeout(ackTimer);
    ackDueAt = at;
    ackTimer = setTimeout(flushAck, at - now);
  }

  function flushAck() {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    if (!o.ack || !isOpen || pos.lastSeq === null) return;
    const seq = Math.min(pos.lastSeq, sessionMax);
    if (seq <= 0 || (acked.epoch === pos.epoch && seq <= acked.seq)) return;
    if (send({ action: 'ack', seq, epoch: pos.epoch })) {
      acked = { epoch: pos.epoch, seq };
      lastAckAt = Date.now();
    }
  }

  // ---- token refresh ----

  // scheduleRefresh sends a fresh token before exp (unix s) when the
  // gateway announced one and getToken is given.
  function scheduleRefresh(exp) {
    clearTimeout(refreshTimer);
    if (!o.getToken || typeof exp !== 'number' || !isOpen) return;
    const left = exp * 1000 - Date.now();
    const early = Math.min(30000, left / 5);
    const delay = Math.max(0, left - early);
    refreshTimer = setTimeout(delay > MAX_TIMER ? () => scheduleRefresh(exp) : refresh, Math.min(delay, MAX_TIMER));
  }

  async function refresh() {
    const my = gen;
    let t;
    try {
      t = await o.getToken();
    } catch (err) {
      return emit('error', fail('get_token', `gateway-client: getToken failed: ${err}`));
    }
    if (my !== gen || !isOpen) return;
    token = t;
    send({ action: 'refresh', token: t });
  }

  // ---- the client ----

  return {
    on(event, fn) {
      if (!EVENTS.includes(event)) throw new TypeError(`gateway-client: no event ${event}; one of ${EVENTS.join(', ')}`);
      handlers[event].push(fn);
      return () => { handlers[event] = handlers[event].filter((h) => h !== fn); };
    },
    close() { stop(null, 1000, 'closed by the client'); },
    get position() { return { ...pos }; },
    get state() { return state; },
    get nodeId() { return nodeId; },
    get userId() { return user; },
  };
}

// ---- helpers ----

function positive(v, fallback) {
  return typeof v === 'number' && v > 0 ? v : fallback;
}

function defaultURL() {
  const loc = globalThis.location;
  if (!loc || !loc.host) throw new TypeError('gateway-client: url is required outside a browser page');
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}`;
}

// wsBase turns a node's base URL into its /ws endpoint without a query.
function wsBase(base) {
  const u = new URL(String(base), globalThis.location ? globalThis.location.href : undefined);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`gateway-client: bad url ${base}`);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith('/ws') ? path : path + '/ws';
  u.search = '';
  u.hash = '';
  return u.toString();
}

// readPosition reads a stored position, ignoring one that is not valid.
function readPosition(storage, key) {
  try {
    const raw = storage.getItem(key);
    if (raw === null || raw === undefined) return null;
    const p = JSON.parse(raw);
    if (p && Number.isSafeInteger(p.seq) && p.seq >= 0 && typeof p.epoch === 'string' && /^[0-9A-Za-z]{0,32}$/.test(p.epoch)) {
      return { epoch: p.epoch, lastSeq: p.seq };
    }
  } catch { /* not JSON, or storage not allowed */ }
  try { storage.removeItem(key); } catch { /* not allowed */ }
  return null;
}

// tokenSubject reads a JWT's sub without verifying it: only to find the
// stored position before the gateway names the user.
function tokenSubject(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const sub = JSON.parse(atob(part)).sub;
    return sub == null ? null : String(sub);
  } catch {
    return null;
  }
}
