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
// batches (or each, with ackInterval: 0), refreshes its token and pings so
// that a half-open connection is noticed. The wire protocol is
// docs/protocol.md; the close codes, the reconnect rule (decide) and the
// refresh rule (refreshDelay) follow pkg/protocol, whose tables are
// generated into this file.

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
 * @property {number} [ackInterval] ms to gather acks into one frame (default 1000; 0: ack each
 *   notification as soon as its handlers returned).
 * @property {number} [pingInterval] ms of silence before a ping (default min(20000, heartbeat_ms)).
 * @property {number} [pongTimeout] ms a ping may wait for any frame before the connection is
 *   given up and replaced (default 10000).
 * @property {number} [connectTimeout] ms from opening to the connected frame (default 10000).
 * @property {typeof WebSocket} [WebSocket] constructor to use (default the global one).
 */

// <protocol:tables>
// Generated from pkg/protocol (make protocol): do not edit.
/** Every close code: its name, the close frame's text, what a client does, and whether it is reported as an error. */
export const CLOSE_CODES = Object.freeze({
  1001: Object.freeze({ name: "draining", reason: "node shutting down, reconnect with last_seq", advice: "resume_now", error: false }),
  1006: Object.freeze({ name: "connection_lost", reason: "", advice: "resume", error: false }),
  1009: Object.freeze({ name: "frame_too_big", reason: "", advice: "resume_late", error: true }),
  1013: Object.freeze({ name: "try_again", reason: "cannot reach Redis, try again later", advice: "resume", error: false }),
  4000: Object.freeze({ name: "slow_consumer", reason: "slow consumer, resume with last_seq", advice: "resume", error: false }),
  4001: Object.freeze({ name: "token_expired", reason: "token expired", advice: "fresh_token", error: false }),
  4002: Object.freeze({ name: "behind_history", reason: "behind the stored history, resume with last_seq", advice: "resume", error: false }),
  4003: Object.freeze({ name: "revoked", reason: "revoked", advice: "resume_late", error: true }),
  4008: Object.freeze({ name: "too_many_sessions", reason: "too many sessions", advice: "stop", error: true }),
  4029: Object.freeze({ name: "rate_limited", reason: "rate limited: too many frames", advice: "resume", error: true }),
});
/** Refused handshakes: retry after the backoff, retry only with a token source, or stop. */
export const HANDSHAKE_STATUSES = Object.freeze({
  400: Object.freeze({ retry: false, tokenRetry: false }),
  401: Object.freeze({ retry: false, tokenRetry: true }),
  403: Object.freeze({ retry: false, tokenRetry: false }),
  429: Object.freeze({ retry: true, tokenRetry: false }),
  503: Object.freeze({ retry: true, tokenRetry: false }),
});
const DEFAULT_ADVICE = Object.freeze({ base_ms: 500, max_ms: 30000, jitter: 0.5 });
const REFRESH_LEAD_MS = 30000;
const MIN_REFRESH_LEFT_MS = 1000;
// </protocol:tables>
const EVENTS = ['notification', 'connected', 'disconnected', 'reset', 'inbox', 'error'];
const STATES = ['seen', 'read', 'archived'];
const ACK_BATCH = 100; // ack at once when this many notifications wait for an ack
const MAX_TIMER = 2 ** 31 - 1; // setTimeout's largest delay

/**
 * decide is the reconnect rule of pkg/protocol (Decide): after a close
 * code, or a refused handshake (status), reconnect or stop, after how many
 * ms. Every reconnect resumes from the position processed last.
 * @param {{code: number, status?: number, retryAfterMs?: number, wasOpen?: boolean, attempts?: number,
 *   advice?: {base_ms: number, max_ms: number, jitter: number}, tokenSource?: boolean, random?: number}} a
 * @returns {{reconnect: boolean, delayMs: number}}
 */
export function decide(a) {
  const advice = a.advice && a.advice.max_ms > 0 ? a.advice : DEFAULT_ADVICE;
  const random = a.random ?? Math.random();
  const stop = { reconnect: false, delayMs: 0 };
  const next = { reconnect: true, delayMs: backoffMs(advice, a.attempts || 0, random) };
  if (a.status) {
    const s = HANDSHAKE_STATUSES[a.status];
    if (!s) return next; // a status this version does not know: keep trying
    if (!s.retry && !(s.tokenRetry && a.tokenSource)) return stop;
    next.delayMs = Math.max(next.delayMs, a.retryAfterMs || 0);
    return next;
  }
  switch ((CLOSE_CODES[a.code] || { advice: 'resume' }).advice) {
    case 'resume_now':
      if (a.wasOpen) next.delayMs = 0;
      break;
    case 'fresh_token':
      if (!a.tokenSource) return stop;
      next.delayMs = 0;
      break;
    case 'resume_late':
      next.delayMs = jittered(advice.max_ms, advice.jitter, random);
      break;
    case 'stop':
      return stop;
  }
  return next;
}

/**
 * refreshDelay is the refresh rule of pkg/protocol (RefreshDelay): ms from
 * now until a token with leftMs to live is refreshed (halfway through what
 * is left, or REFRESH_LEAD_MS before it expires when that is later), or
 * null when too little is left to try.
 * @param {number} leftMs
 * @returns {number | null}
 */
export function refreshDelay(leftMs) {
  if (leftMs < MIN_REFRESH_LEFT_MS) return null;
  return leftMs - Math.min(REFRESH_LEAD_MS, leftMs / 2);
}

function backoffMs(advice, attempt, random) {
  const ceiling = attempt < 40 ? Math.min(advice.max_ms, advice.base_ms * 2 ** attempt) : advice.max_ms;
  return jittered(ceiling, advice.jitter, random);
}

function jittered(ms, jitter, random) {
  return Math.round(ms * (1 - jitter * random));
}

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
    ackInterval: options.ackInterval === 0 ? 0 : positive(options.ackInterval, 1000),
    pingInterval: positive(options.pingInterval, 0), // 0: from heartbeat_ms
    pongTimeout: positive(options.pongTimeout, 10000),
    connectTimeout: positive(options.connectTimeout, 10000),
  };
  const WS = o.WebSocket || globalThis.WebSocket;
  if (!WS) throw new TypeError('gateway-client: no global WebSocket: on Node 20 run node --experimental-websocket (Node 22+ has it), or pass connect({ WebSocket })');
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
  let retryTimer, watchTimer, ackTimer, refreshTimer, ackDueAt = 0;
  let sessionExp = 0; // unix s the session's token expires at (0: none announced)
  let refreshing = null; // the token of a refresh sent and not answered yet
  let counts = { unseen: 0, unread: 0 }; // the inbox counts the gateway sent last

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
        return retry(1006, 'no token', false, decide({ code: 1006, attempts: attempt, advice, tokenSource: true }).delayMs);
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

  // lost handles the end of a connection: decide (the protocol's rule)
  // says whether to reconnect and when, from the close code or, for a
  // handshake that failed, the refusal probe() reads.
  async function lost(code, reason, base) {
    const wasOpen = isOpen;
    ws = null;
    isOpen = false;
    clearSession();
    if (state === 'closed') return;
    const my = ++gen;
    state = 'waiting';
    let refused = null;
    if (!wasOpen && base && typeof fetch === 'function') {
      refused = await probe(base);
      if (my !== gen) return;
    }
    const d = decide({ code, status: refused ? refused.status : 0, retryAfterMs: refused ? refused.retryAfterMs : 0,
      wasOpen, attempts: attempt, advice, tokenSource: !!o.getToken });
    const info = CLOSE_CODES[code];
    let err = refused;
    if (!err && info && (info.error || !d.reconnect)) {
      err = fail(info.name, `gateway-client: closed with ${code} (${info.name}): ${reason || info.reason}`, { closeCode: code });
    }
    if (!d.reconnect) {
      if (err) err.fatal = true;
      return stop(err, code, reason);
    }
    if (err) emit('error', err);
    retry(code, reason, wasOpen, d.delayMs);
  }

  function retry(code, reason, wasOpen, delay) {
    if (state === 'closed') return;
    state = 'waiting';
    attempt++;
    urlIndex++;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(run, delay);
    emit('disconnected', { code, reason, wasOpen, willReconnect: true, delayMs: delay });
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
    ackTimer = refreshTimer = undefined;
    refreshing = null;
  }

  // probe asks the URL of a failed handshake over plain HTTP to read the
  // gateway's refusal (a WebSocket only sees 1006). It returns an error
  // with the status (and a 429's Retry-After) for a refusal, or null.
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
    if (!e || res.status < 400) return null;
    const message = String(e.message || '');
    // A probe the gateway accepted fails only as "not a WebSocket request".
    if (res.status === 400 && message.startsWith('websocket:')) return null;
    const retryAfterMs = 1000 * (Number(res.headers.get('Retry-After')) || 0);
    return fail(String(e.code || 'refused'), `gateway-client: handshake refused (${res.status}): ${message}`,
      { status: res.status, retryAfterMs });
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
      case 'inbox': return onCounts(f);
      case 'refreshed':
        refreshing = null;
        return scheduleRefresh(f.exp);
      case 'error':
        if (f.limit && refreshing) {
          // The frame limit dropped the refresh: send it again when told.
          const t = refreshing;
          setTimeout(() => { if (isOpen && refreshing === t) send({ action: 'refresh', token: t }); }, Number(f.retry_after_ms) || 1000);
        }
        return emit('error', fail(String(f.code), `gateway-client: the gateway answered: ${f.message}`));
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
      unseen: Number(f.unseen) || 0, unread: Number(f.unread) || 0,
    });
    if (reset) emit('reset', { epoch: f.epoch, previousEpoch: previous, lastSeq: f.last_seq, headSeq: f.head_seq, truncated: !!f.truncated });
    onCounts(f);
    scheduleRefresh(f.exp);
    flushAck();
  }

  function onReset(f) {
    const previous = pos.epoch;
    pos = { epoch: f.epoch, lastSeq: f.last_seq };
    sessionMax = f.last_seq;
    save();
    emit('reset', { epoch: f.epoch, previousEpoch: previous, lastSeq: f.last_seq, headSeq: f.head_seq, truncated: !!f.truncated });
    if (typeof f.unseen === 'number') onCounts(f);
  }

  // onCounts takes the inbox counts of a connected, reset or inbox frame.
  function onCounts(f) {
    counts = { unseen: Number(f.unseen) || 0, unread: Number(f.unread) || 0 };
    emit('inbox', { ...counts });
  }

  // mark sends a mark frame; false when no session is open.
  function mark(m = {}) {
    if (!STATES.includes(m.state)) throw new TypeError(`gateway-client: mark state must be one of ${STATES.join(', ')}`);
    const given = [m.seq != null, m.upTo != null, m.all === true].filter(Boolean).length;
    if (given !== 1) throw new TypeError('gateway-client: a mark needs exactly one of seq, upTo and all');
    const frame = { action: 'mark', state: m.state };
    if (m.seq != null) frame.seq = m.seq;
    if (m.upTo != null) frame.up_to = m.upTo;
    if (m.all === true) frame.all = true;
    if (m.epoch) frame.epoch = m.epoch;
    return send(frame);
  }

  function onNotification(m) {
    sessionMax = Math.max(sessionMax, m.seq);
    if (m.epoch !== pos.epoch) {
      // Never without a reset frame before it; follow the new epoch anyway.
      onReset({ epoch: m.epoch, last_seq: m.seq - 1, head_seq: m.seq, truncated: false });
    }
    // A duplicate. A seq beyond lastSeq + 1 is no error: the gateway
    // steps over the messages the user muted in the app.
    if (pos.lastSeq !== null && m.seq <= pos.lastSeq) return;
    pos = { epoch: m.epoch, lastSeq: m.seq };
    emit('notification', m);
    save();
    scheduleAck();
  }

  // ---- acks ----

  // scheduleAck sends an ack within ackInterval, at once when ackInterval
  // is 0 or ACK_BATCH are waiting (acks of delivered messages are free).
  function scheduleAck() {
    if (!o.ack) return;
    const now = Date.now();
    const waiting = pos.lastSeq - (acked.epoch === pos.epoch ? acked.seq : 0);
    if (o.ackInterval === 0 || waiting >= ACK_BATCH) return flushAck();
    const at = now + o.ackInterval;
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
    if (send({ action: 'ack', seq, epoch: pos.epoch })) acked = { epoch: pos.epoch, seq };
  }

  // ---- token refresh ----

  // scheduleRefresh asks getToken for a new token when refreshDelay says,
  // once the gateway announced the session's exp.
  function scheduleRefresh(exp) {
    clearTimeout(refreshTimer);
    refreshTimer = undefined;
    if (!o.getToken || typeof exp !== 'number' || !isOpen) return;
    sessionExp = exp;
    const delay = refreshDelay(exp * 1000 - Date.now());
    if (delay === null) return; // too late: the session ends (4001) and a reconnect gets a new token
    refreshTimer = setTimeout(delay > MAX_TIMER ? () => scheduleRefresh(exp) : refresh, Math.min(delay, MAX_TIMER));
  }

  // refresh sends getToken's token, once per token: the same token as the
  // session's (a caching source) is not sent; it is asked again halfway
  // through what is then left.
  async function refresh() {
    refreshTimer = undefined;
    const my = gen;
    let t;
    try {
      t = await o.getToken();
    } catch (err) {
      emit('error', fail('get_token', `gateway-client: getToken failed: ${err}`));
      return my === gen && scheduleRefresh(sessionExp);
    }
    if (my !== gen || !isOpen) return;
    if (t === token) return scheduleRefresh(sessionExp);
    token = refreshing = t;
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
    get counts() { return { ...counts }; },
    mark,
    markRead(n) { return mark({ state: 'read', seq: n.seq, epoch: n.epoch }); },
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
