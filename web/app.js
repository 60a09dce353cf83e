// House-viewing push gateway: browser test page. Plain JavaScript, no build
// step. The two functions at the top are the client contract in small:
// reconnectDelay and keepConnected can be copied into any browser client.
'use strict';

// reconnectDelay is the wait before reconnect attempt n (0, 1, 2, …) under
// the gateway's advice from the connected frame, {base_ms, max_ms, jitter}:
// min(max_ms, base_ms·2^n) scaled by a random factor in [1-jitter, 1].
function reconnectDelay(advice, n, random = Math.random) {
  const ceiling = Math.min(advice.max_ms, advice.base_ms * 2 ** n);
  return Math.round(ceiling * (1 - advice.jitter * random()));
}

// keepConnected keeps one WebSocket to the gateway open. Whenever it closes
// (1001 node draining, 1013 try again, 4000 slow consumer, network loss) it
// waits reconnectDelay and opens urlFor() again; urlFor adds &last_seq=N and
// &epoch=E, the highest seq the client has and the epoch of the user's
// stream it belongs to, so the gateway resumes right after it (or says
// reset when that stream is gone). The
// attempt count restarts at every connected frame. onFrame gets each decoded
// frame; onClose(event, waitMs, hadConnected) each close. Returns
// {send(obj), stop()}.
function keepConnected(urlFor, onFrame, onClose) {
  let advice = { base_ms: 500, max_ms: 30000, jitter: 0.5 }; // until the gateway advises
  let attempt = 0, ws = null, timer = null, stopped = false;
  function open() {
    let hadConnected = false;
    ws = new WebSocket(urlFor());
    ws.onmessage = (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      if (f.event === 'connected') {
        hadConnected = true;
        attempt = 0;
        if (f.reconnect && f.reconnect.max_ms > 0) advice = f.reconnect;
      }
      onFrame(f);
    };
    ws.onclose = (e) => {
      if (stopped) return;
      const wait = reconnectDelay(advice, attempt++);
      timer = setTimeout(open, wait);
      onClose(e, wait, hadConnected);
    };
  }
  open();
  return {
    send(obj) {
      if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; }
      return false;
    },
    stop() { stopped = true; clearTimeout(timer); if (ws) ws.close(1000, 'bye'); },
  };
}

if (typeof module !== 'undefined') module.exports = { reconnectDelay, keepConnected };
if (typeof document !== 'undefined') main();

function main() {
  const TYPES = { 1: '预约创建 created', 2: '确认 confirmed', 3: '取消 cancelled', 4: '提醒 reminder', 5: '拒绝 rejected', 6: '推送 push' };
  const CLOSES = {
    1000: '正常关闭 normal', 1001: '节点下线 node draining', 1006: '连接中断或握手被拒 connection lost or refused',
    1009: '帧过大 frame too big', 1013: '稍后重试 try again later', 4000: '消费过慢 slow consumer',
    4001: '令牌过期 token expired', 4003: '已被吊销 revoked', 4008: '会话过多 too many sessions', 4029: '发送过快 rate limited',
  };
  const ACK_EVERY_MS = 1000;
  const $ = (id) => document.getElementById(id);

  // The session of the page: one user, one connection.
  // A seq counts within its epoch: seen and highest belong to s.epoch.
  const s = { conn: null, user: '', epoch: '', seen: new Set(), highest: null, acked: 0, expectGap: false, count: 0 };

  const storageKey = (user) => 'houseview.last_seq.' + user;
  const epochKey = (user) => 'houseview.epoch.' + user;
  function loadSeq(user) {
    const v = localStorage.getItem(storageKey(user));
    s.epoch = localStorage.getItem(epochKey(user)) || '';
    return v === null || !/^\d+$/.test(v) ? null : Number(v);
  }
  function saveSeq() {
    if (s.user && s.highest !== null) {
      localStorage.setItem(storageKey(s.user), String(s.highest));
      localStorage.setItem(epochKey(s.user), s.epoch);
    }
    $('last-seq').textContent = s.highest === null ? '-' : s.highest;
  }

  // restart follows a new epoch of the user's stream from seq after: what
  // was stored for the old epoch is void (its Redis lost it).
  function restart(epoch, after) {
    s.epoch = epoch;
    s.seen.clear();
    s.highest = after;
    s.acked = after;
  }

  function log(text, level) {
    const line = `${new Date().toLocaleTimeString()} ${level ? level + ' ' : ''}${text}\n`;
    const el = $('log');
    el.textContent = (line + el.textContent).split('\n').slice(0, 300).join('\n');
  }

  function setState(cls, text) {
    $('state').className = cls;
    $('state').textContent = text;
  }

  // tokenSub reads the user id (sub) of a JWT without verifying it: only to
  // key the stored last_seq by user in jwt mode.
  function tokenSub(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return String(JSON.parse(atob(part)).sub || '');
    } catch { return ''; }
  }

  function wsQuery(withSeq) {
    const q = new URLSearchParams();
    const user = $('user-id').value.trim(), token = $('token').value.trim();
    if (user) q.set('user_id', user);
    if (token) q.set('token', token);
    if (withSeq && s.highest !== null) {
      q.set('last_seq', String(s.highest));
      if (s.epoch) q.set('epoch', s.epoch);
    }
    return q.toString();
  }

  function wsURL() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws?${wsQuery(true)}`;
  }

  function connect(replayAll) {
    disconnect();
    const user = $('user-id').value.trim(), token = $('token').value.trim();
    if (!user && !token) { log('需要用户 ID 或令牌 / a user id or a token is needed', 'ERROR'); return; }
    localStorage.setItem('houseview.user_id', user);
    s.user = user || tokenSub(token);
    s.seen.clear();
    s.highest = loadSeq(s.user);
    if (replayAll) { s.highest = 0; s.epoch = ''; }
    s.acked = s.highest || 0;
    s.expectGap = false;
    if (replayAll) clearList();
    saveSeq();
    setState('waiting', '连接中 connecting');
    log(`connecting as ${s.user || '?'}` + (s.highest === null ? '' : ` from last_seq=${s.highest}`));
    s.conn = keepConnected(wsURL, onFrame, onClose);
  }

  function disconnect() {
    if (!s.conn) return;
    s.conn.stop();
    s.conn = null;
    setState('closed', '未连接 disconnected');
    log('disconnected');
  }

  function onFrame(f) {
    if (f.event === 'connected') return onConnected(f);
    if (f.event === 'reset') return onReset(f);
    if (f.event === 'error') return log(`${f.code}: ${f.message}`, 'ERROR frame');
    if (typeof f.seq !== 'number') return log('unknown frame ' + JSON.stringify(f), 'WARN');
    if (f.epoch !== s.epoch) {
      // Never without a reset frame before it; follow the stream anyway.
      log(`message of epoch ${f.epoch} while following ${s.epoch || '-'}: following the new epoch`, 'WARN');
      restart(f.epoch, f.seq - 1);
    }
    if (s.seen.has(f.seq)) return log(`duplicate seq ${f.seq} dropped`, 'WARN');
    if (s.highest !== null && f.seq > s.highest + 1 && !s.expectGap) {
      log(`gap: seq ${s.highest + 1}..${f.seq - 1} missing`, 'WARN');
    }
    s.expectGap = false;
    s.seen.add(f.seq);
    s.highest = Math.max(s.highest || 0, f.seq);
    saveSeq();
    render(f);
  }

  function onConnected(f) {
    s.user = String(f.user_id);
    if (f.reset || f.epoch !== s.epoch) {
      // The user's stream is not the one our last_seq belongs to (its Redis
      // lost it, or we had none): follow the gateway's epoch from last_seq.
      if (f.reset) log(`stream reset: epoch ${s.epoch || '-'} is gone, now ${f.epoch}; replaying from ${f.last_seq}`, 'WARN');
      restart(f.epoch, f.last_seq);
    } else {
      s.highest = f.last_seq; // where the replay continues
      s.acked = Math.min(s.acked, f.last_seq);
    }
    if (f.truncated) {
      s.expectGap = true;
      log('older messages have expired: the list resumes at the oldest stored one', 'WARN');
    }
    saveSeq();
    setState('open', '已连接 connected');
    $('node-id').textContent = f.node_id;
    $('conn-user').textContent = f.user_id;
    $('head-seq').textContent = f.head_seq;
    $('heartbeat').textContent = f.heartbeat_ms + ' ms';
    if (f.reconnect) $('advice').textContent = `base ${f.reconnect.base_ms} ms, max ${f.reconnect.max_ms} ms, jitter ${f.reconnect.jitter}`;
    log(`connected to ${f.node_id} as ${f.user_id}, last_seq=${f.last_seq} head_seq=${f.head_seq}`);
  }

  // onReset: a live session learnt that the user's stream was recreated.
  function onReset(f) {
    log(`stream reset: epoch ${s.epoch || '-'} is gone, now ${f.epoch}; replaying from ${f.last_seq}`, 'WARN');
    restart(f.epoch, f.last_seq);
    if (f.truncated) s.expectGap = true;
    saveSeq();
    $('head-seq').textContent = f.head_seq;
  }

  async function onClose(e, wait, hadConnected) {
    const why = CLOSES[e.code] || 'closed';
    setState('waiting', `${wait} ms 后重连 reconnecting (${e.code})`);
    log(`closed ${e.code} ${why}${e.reason ? ': ' + e.reason : ''}; reconnect in ${wait} ms with last_seq=${s.highest ?? '-'}`, 'WARN');
    if (hadConnected || e.code !== 1006) return;
    // A refused handshake shows up as 1006 with no reason: ask the same URL
    // over plain HTTP to read the gateway's error, and stop on a bad request
    // or bad credentials (retrying cannot help).
    const conn = s.conn;
    try {
      const res = await fetch('/ws?' + wsQuery(true));
      const body = await res.json();
      if (body && body.error && [400, 401, 403].includes(res.status) && s.conn === conn) {
        disconnect();
        setState('closed', `被拒绝 refused: ${body.error.code}`);
        log(`handshake refused ${res.status} ${body.error.code}: ${body.error.message}`, 'ERROR');
      }
    } catch { /* not JSON or no answer: keep retrying */ }
  }

  function sendAcks() {
    if (!s.conn || s.highest === null || s.highest <= s.acked) return;
    if (s.conn.send({ action: 'ack', seq: s.highest, epoch: s.epoch })) {
      s.acked = s.highest;
      $('acked').textContent = s.acked;
    }
  }

  function clearList() {
    $('messages').textContent = '';
    s.count = 0;
    $('msg-count').textContent = '';
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(m) {
    const li = el('li');
    li.dataset.seq = m.seq;
    const head = el('div', 'msg-head');
    head.append(el('span', 'seq', '#' + m.seq), el('span', 'tag t' + m.type, TYPES[m.type] || 'type ' + m.type),
      el('strong', '', m.title || ''));
    if (m.timestamp) {
      const ms = m.timestamp > 1e12 ? m.timestamp : m.timestamp * 1000;
      head.append(el('span', 'time', new Date(ms).toLocaleString()));
    }
    li.append(head, el('div', '', m.content || ''));
    if (m.reservation_id) {
      const rid = el('div', 'rid', '预约 reservation ');
      const a = el('a', '', '#' + m.reservation_id);
      a.title = '填入下方表单 / use in the form';
      a.addEventListener('click', () => { $('act-form').elements.id.value = m.reservation_id; });
      rid.append(a);
      li.append(rid);
    }
    const d = el('details');
    d.append(el('summary', '', 'JSON'), el('pre', '', JSON.stringify(m, null, 2)));
    li.append(d);
    $('messages').prepend(li);
    while ($('messages').children.length > 1000) $('messages').lastChild.remove();
    $('msg-count').textContent = `(${++s.count})`;
  }

  // ---- REST ----

  // num turns a form field into a JSON number; blank is left out, anything
  // else is sent as typed so the gateway's validation can be seen.
  function num(v) {
    v = v.trim();
    if (v === '') return undefined;
    return /^-?\d+$/.test(v) ? Number(v) : v;
  }

  function connectedUser() {
    return $('conn-user').textContent !== '-' ? $('conn-user').textContent : $('user-id').value;
  }

  async function api(method, path, body) {
    const headers = {};
    const token = $('token').value.trim();
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body) headers['Content-Type'] = 'application/json';
    const out = $('answer');
    out.textContent = `${method} ${path} …`;
    try {
      const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      let data = text;
      try { data = JSON.parse(text); } catch { /* shown as text */ }
      out.className = res.ok ? '' : 'bad';
      out.textContent = `${method} ${path} → ${res.status}\n` + (typeof data === 'string' ? data : JSON.stringify(data, null, 2));
      return res.ok ? data : null;
    } catch (err) {
      out.className = 'bad';
      out.textContent = `${method} ${path} → ${err}`;
      return null;
    }
  }

  async function book(ev) {
    ev.preventDefault();
    const f = $('book-form').elements;
    const body = {
      landlord_id: num(f.landlord_id.value), user_id: num(f.user_id.value || connectedUser()),
      user_name: f.user_name.value, house_id: num(f.house_id.value),
      house_title: f.house_title.value || undefined, reserve_time: f.reserve_time.value.trim(),
    };
    const data = await api('POST', '/house/reserve', body);
    if (data && data.reservation) $('act-form').elements.id.value = data.reservation.reservation_id;
  }

  async function act(verb) {
    const f = $('act-form').elements;
    const id = encodeURIComponent(f.id.value.trim());
    const actor = num(f.actor.value || connectedUser());
    if (verb === 'get') {
      const q = actor === undefined ? '' : '?user_id=' + encodeURIComponent(actor);
      return api('GET', `/api/reservations/${id}${q}`);
    }
    const body = verb === 'confirm' || verb === 'reject' ? { landlord_id: actor } : { user_id: actor };
    if ((verb === 'reject' || verb === 'cancel') && f.reason.value.trim()) body.reason = f.reason.value.trim();
    return api('POST', `/api/reservations/${id}/${verb}`, body);
  }

  // A default reserve_time: this time tomorrow, to the minute, local time.
  function tomorrow() {
    const d = new Date(Date.now() + 24 * 3600 * 1000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:00`;
  }

  $('connect').addEventListener('click', () => connect(false));
  $('replay').addEventListener('click', () => connect(true));
  $('disconnect').addEventListener('click', disconnect);
  $('clear').addEventListener('click', clearList);
  $('book-form').addEventListener('submit', book);
  for (const b of document.querySelectorAll('#act-form button[data-verb]')) {
    b.addEventListener('click', () => act(b.dataset.verb));
  }
  setInterval(sendAcks, ACK_EVERY_MS);

  $('book-form').elements.reserve_time.value = tomorrow();
  // ?user_id=1001 in the page's URL connects right away.
  const fromURL = new URLSearchParams(location.search).get('user_id');
  $('user-id').value = fromURL || localStorage.getItem('houseview.user_id') || '1001';
  if (fromURL) connect(false);
}
