// House-viewing demo page (served at /web/): a tenant browses houses and
// books a viewing, the landlord sees the request arrive live and confirms
// or rejects, either cancels or sends a reminder; a notification centre
// keeps the history. Plain ES module, no build step, no dependencies: the
// connection is the gateway's JavaScript client (gateway-client.js).
//
// Deep link: ?user_id=1001&role=tenant&nodes=host1:port,host2:port connects
// on load (insecure mode). In jwt mode paste a token and press Connect.
// The WebSocket rotates through `nodes` (default: this page's host); REST
// calls always go to this page's own origin (the gateway sends no CORS
// headers for its API), with `Authorization: Bearer <token>` in jwt mode.
import { connect, CLOSE_CODES } from './gateway-client.js';

const TYPES = {
  1: '预约创建 created', 2: '已确认 confirmed', 3: '已取消 cancelled',
  4: '看房提醒 reminder', 5: '已拒绝 rejected', 6: '系统推送 push',
};
const STATUS = { pending: '待确认 pending', confirmed: '已确认 confirmed', rejected: '已拒绝 rejected', cancelled: '已取消 cancelled' };
const RANK = { pending: 0, confirmed: 1, rejected: 2, cancelled: 2 }; // states only move forward
const VERBS = { confirm: '确认 Confirm', reject: '拒绝 Reject', cancel: '取消 Cancel', remind: '提醒 Remind' };
const HISTORY = 50; // notifications loaded over HTTP when a page connects
const KEEP = 200; // notifications the centre keeps
const PAGE_SIZE = 12;

const $ = (id) => document.getElementById(id);

// The page's session: one client, one user, one role.
const s = {
  client: null, token: '', user: null, role: 'tenant', connects: 0, fatal: '',
  messages: new Map(), // "epoch:seq" -> notification
  reservations: new Map(), // reservation_id -> reservation
  tab: 'recommend', page: 1, pages: 1, house: null, housesCall: 0,
};

// ---- small helpers ----

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function log(text, level = '') {
  const line = `${new Date().toLocaleTimeString()} ${level ? level + ' ' : ''}${text}\n`;
  const out = $('log');
  out.textContent = (line + out.textContent).split('\n').slice(0, 300).join('\n');
}

function setState(cls, text) {
  $('state').className = cls;
  $('state').textContent = text;
}

function money(n) {
  return '¥' + Number(n).toLocaleString('zh-CN');
}

// localTime formats unix milliseconds for the centre.
function localTime(ms) {
  const d = new Date(ms);
  return { text: d.toLocaleString('zh-CN', { hour12: false }), iso: d.toISOString() };
}

// query builds a query string without empty values; me adds the user's id
// in insecure mode (in jwt mode the token names the user).
function query(params, me = false) {
  const q = new URLSearchParams();
  if (me && !s.token && s.user) q.set('user_id', s.user);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && String(v).trim() !== '') q.set(k, String(v).trim());
  }
  const text = q.toString();
  return text ? '?' + text : '';
}

// whoAmI is the id field of an action's body: insecure mode only.
function whoAmI(field) {
  return s.token ? {} : { [field]: /^\d+$/.test(s.user || '') ? Number(s.user) : s.user };
}

// nodeURLs turns "host:port,host2:port" into base URLs for the client.
function nodeURLs(text) {
  return text.split(',').map((x) => x.trim()).filter(Boolean)
    .map((x) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(x) ? x : `${location.protocol}//${x}`));
}

// ---- REST (this page's origin) ----

// api calls the gateway and returns the decoded answer, or null on an
// error (shown in the log, and in #answer when show is set).
async function api(method, path, body, show = method !== 'GET') {
  const headers = {};
  if (s.token) headers.Authorization = 'Bearer ' + s.token;
  if (body) headers['Content-Type'] = 'application/json';
  const out = $('answer');
  if (show) {
    out.className = '';
    out.textContent = `${method} ${path} …`;
  }
  let status = 0, data = null, text = '';
  try {
    const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store' });
    status = res.status;
    text = await res.text();
    try { data = JSON.parse(text); } catch { data = text; }
  } catch (err) {
    text = String(err);
  }
  const ok = status >= 200 && status < 300;
  if (show || !ok) {
    out.className = ok ? '' : 'bad';
    out.textContent = `${method} ${path} → ${status || 'failed'}\n` +
      (data && typeof data === 'object' ? JSON.stringify(data, null, 2) : text);
  }
  if (!ok) {
    const e = data && data.error;
    log(`${method} ${path} → ${status || text}${e ? ` ${e.code}: ${e.message}` : ''}`, 'ERROR');
  }
  return ok ? data : null;
}

// ---- connection ----

function start() {
  stop();
  const token = $('token').value.trim(), user = $('user-id').value.trim();
  if (!token && !user) {
    setState('closed', '需要用户 ID 或令牌 · a user id or a token is needed');
    return;
  }
  Object.assign(s, { token, user: token ? null : user, role: $('role').value, connects: 0, fatal: '' });
  s.messages.clear();
  s.reservations.clear();
  renderMessages();
  renderReservations();
  $('reminders').textContent = '';
  for (const id of ['node-id', 'conn-user', 'last-seq', 'head-seq', 'acked']) $(id).textContent = '-';
  const nodes = nodeURLs($('nodes').value);
  let client;
  try {
    client = connect({
      url: nodes.length ? nodes : undefined,
      userId: token ? undefined : user,
      token: token || undefined,
      storage: localStorage, // the position per user: a reload resumes after it
    });
  } catch (err) {
    setState('closed', `已停止 stopped: ${err.message}`);
    log(String(err), 'ERROR');
    return;
  }
  s.client = client;
  setState('connecting', '连接中 connecting');
  $('reconnects').textContent = '0';
  log(`connecting as ${token ? 'the token\'s user' : user} to ${nodes.join(', ') || location.host}`);
  client.on('connected', onConnected);
  client.on('notification', onNotification);
  client.on('disconnected', onDisconnected);
  client.on('inbox', showCounts);
  client.on('reset', (r) => log(`stream reset: epoch ${r.previousEpoch || '-'} is gone, now ${r.epoch}; replaying from ${r.lastSeq}`, 'WARN'));
  client.on('error', (err) => {
    log(`${err.code || 'error'}: ${err.message}`, err.fatal ? 'ERROR' : 'WARN');
    if (err.fatal) s.fatal = err.code || 'error';
  });
}

function stop() {
  if (!s.client) return;
  s.client.close(); // its disconnected event updates the badge
  s.client = null;
}

function onConnected(ev) {
  showCounts(ev);
  s.connects++;
  s.user = String(ev.userId);
  $('node-id').textContent = ev.nodeId;
  $('reconnects').textContent = String(s.connects - 1);
  $('conn-user').textContent = ev.userId;
  applyRole();
  $('head-seq').textContent = ev.headSeq;
  $('last-seq').textContent = ev.lastSeq;
  setState('open', '已连接 connected');
  log(`connected to ${ev.nodeId} (${ev.url}) as ${ev.userId}, last_seq=${ev.lastSeq} head_seq=${ev.headSeq}` +
    (ev.truncated ? ' (older messages expired)' : ''));
  if (s.connects === 1) {
    loadHistory(ev);
    loadReservations();
    if (s.role === 'tenant') loadHouses();
  }
}

function onDisconnected(ev) {
  const why = ev.code === 1000 ? 'normal' : (CLOSE_CODES[ev.code]?.name || 'closed').replaceAll('_', ' ');
  log(`closed ${ev.code} ${why}${ev.reason ? ': ' + ev.reason : ''}; ` +
    (ev.willReconnect ? `reconnect in ${ev.delayMs} ms` : 'not reconnecting'), ev.willReconnect ? 'WARN' : '');
  if (ev.willReconnect) setState('waiting', `重连中 reconnecting in ${ev.delayMs} ms (${ev.code})`);
  else setState('closed', s.fatal ? `已停止 stopped: ${s.fatal}` : '未连接 offline');
}

// loadHistory fills the centre with the notifications this user processed
// before (up to HISTORY): the client replays only what comes after them.
// Reading after=N acknowledges 1..N, all of which were processed.
async function loadHistory(ev) {
  const c = s.client, after = Math.max(0, ev.lastSeq - HISTORY);
  const data = await api('GET', '/api/messages' + query({ after, epoch: ev.epoch, limit: HISTORY }, true));
  if (c === s.client && data && Array.isArray(data.messages)) {
    for (const m of data.messages) addMessage(m, false);
    renderMessages();
  }
}

// ---- notifications ----

function onNotification(m) {
  addMessage(m, true);
  renderMessages();
  $('last-seq').textContent = m.seq;
  $('head-seq').textContent = Math.max(Number($('head-seq').textContent) || 0, m.seq);
  $('acked').textContent = m.seq; // the client acks it once this handler returns
  if (m.detail && m.detail.reservation_id) upsertReservation(m.detail, true);
  if (m.type === 4) showReminder(m);
}

function addMessage(m, live) {
  if (typeof m.seq !== 'number') return;
  const key = `${m.epoch}:${m.seq}`;
  if (!s.messages.has(key)) s.messages.set(key, { ...m, live });
}

// ---- the inbox: the bell's unread count, the same in every window ----

// showCounts shows the user's inbox counts (connected frames and inbox
// events: a mark in any window of the user, on any node, or a new message).
function showCounts(c) {
  const unread = Number(c.unread) || 0;
  $('unread').textContent = String(unread);
  $('bell').classList.toggle('unread', unread > 0);
  const shown = [...s.messages.values()].filter((m) => !m.read).length;
  if (unread < shown) refreshStates(); // read in another window
}

// refreshStates re-reads the read state of the listed notifications (a
// mark in another window changes the counts, not which ones were read).
let statesTimer = 0;
function refreshStates() {
  clearTimeout(statesTimer);
  statesTimer = setTimeout(async () => {
    const c = s.client, listed = [...s.messages.values()];
    if (!c || !listed.length) return;
    const epoch = listed[0].epoch, after = Math.max(0, Math.min(...listed.map((m) => m.seq)) - 1);
    const data = await api('GET', '/api/messages' + query({ after, epoch, limit: KEEP }, true));
    if (c !== s.client || !data || !Array.isArray(data.messages)) return;
    for (const m of data.messages) {
      const mine = s.messages.get(`${m.epoch}:${m.seq}`);
      if (mine) mine.read = !!m.read;
    }
    renderMessages();
  }, 150);
}

// markRead marks one notification read on every device of the user.
function markRead(m) {
  if (!s.client || m.read) return;
  if (s.client.markRead(m)) {
    m.read = true;
    renderMessages();
  }
}

function markAllRead() {
  if (!s.client) return;
  if (s.client.mark({ state: 'read', all: true })) {
    for (const m of s.messages.values()) m.read = true;
    renderMessages();
  }
}

const when = (m) => (typeof m.ts === 'number' ? m.ts : (m.timestamp || 0) * 1000);

function renderMessages() {
  const list = [...s.messages.values()].sort((a, b) => when(b) - when(a) || b.seq - a.seq);
  for (const m of list.slice(KEEP)) s.messages.delete(`${m.epoch}:${m.seq}`);
  const ul = $('messages');
  ul.textContent = '';
  for (const m of list.slice(0, KEEP)) {
    const li = el('li', [m.live ? 'live' : '', m.read ? 'read' : 'unread'].join(' ').trim());
    li.dataset.seq = m.seq;
    li.addEventListener('click', () => markRead(m));
    li.dataset.type = m.type;
    const head = el('div', 'msg-head');
    const t = localTime(when(m));
    const time = el('time', '', t.text);
    time.dateTime = t.iso;
    head.append(el('span', 'seq', '#' + m.seq), el('span', 'tag t' + m.type, TYPES[m.type] || 'type ' + m.type),
      time, el('strong', '', m.title));
    li.append(head, el('div', '', m.content));
    if (m.reservation_id) li.append(el('div', 'seq', `预约 reservation #${m.reservation_id}`));
    ul.append(li);
  }
  $('msg-count').textContent = list.length ? `(${Math.min(list.length, KEEP)})` : '';
}

// showReminder puts a due reminder (type 4) above the page until dismissed.
function showReminder(m) {
  const box = el('div', 'reminder');
  box.dataset.seq = m.seq;
  const close = el('button', '', '知道了 Dismiss');
  close.type = 'button';
  close.addEventListener('click', () => box.remove());
  box.append(el('strong', '', m.title), el('p', '', m.content), close);
  $('reminders').prepend(box);
}

// ---- reservations ----

async function loadReservations() {
  const c = s.client;
  const data = await api('GET', '/api/reservations' + query({ role: s.role, page_size: 50 }, true));
  if (c === s.client && data && Array.isArray(data.reservations)) {
    for (const r of data.reservations) upsertReservation(r, false);
  }
}

// upsertReservation keeps the furthest state of each reservation: a list
// read before a notification must not undo it.
function upsertReservation(r, fresh) {
  const old = s.reservations.get(r.reservation_id);
  if (old && (RANK[old.status] ?? 0) > (RANK[r.status] ?? 0)) return;
  s.reservations.set(r.reservation_id, { ...r, fresh });
  renderReservations();
}

function verbsFor(r) {
  if (r.status === 'pending') return s.role === 'landlord' ? ['confirm', 'reject', 'cancel'] : ['cancel'];
  if (r.status === 'confirmed') return ['remind', 'cancel'];
  return [];
}

function renderReservations() {
  const ul = $('reservations');
  ul.textContent = '';
  const list = [...s.reservations.values()].sort((a, b) => b.reservation_id - a.reservation_id);
  for (const r of list) {
    const li = el('li', r.fresh ? 'fresh' : '');
    r.fresh = false;
    li.dataset.id = r.reservation_id;
    li.dataset.status = r.status;
    const head = el('div', 'res-head');
    head.append(el('strong', '', r.house_title), el('span', 'status ' + r.status, STATUS[r.status] || r.status),
      el('span', 'seq', '#' + r.reservation_id));
    const body = el('div', 'res-body',
      `看房时间 ${r.reserve_time} · 租客 ${r.user_name} (${r.user_id}) · 房源 ${r.house_id} · 房东 ${r.landlord_id}`);
    li.append(head, body);
    if (r.reason) li.append(el('div', 'res-body', '原因 reason: ' + r.reason));
    const verbs = verbsFor(r);
    if (verbs.length) {
      const buttons = el('div', 'buttons');
      for (const v of verbs) {
        const b = el('button', v === 'confirm' ? 'primary' : v === 'reject' ? 'danger' : '', VERBS[v]);
        b.type = 'button';
        b.dataset.verb = v;
        b.setAttribute('aria-label', `${VERBS[v]} #${r.reservation_id} ${r.house_title}`);
        buttons.append(b);
      }
      li.append(buttons);
    }
    ul.append(li);
  }
  $('reservations-empty').hidden = list.length > 0;
}

async function act(id, verb) {
  const field = s.role === 'landlord' ? 'landlord_id' : 'user_id';
  const body = whoAmI(verb === 'confirm' || verb === 'reject' ? 'landlord_id' : field);
  const reason = $('reason').value.trim();
  if (reason && (verb === 'reject' || verb === 'cancel')) body.reason = reason;
  const data = await api('POST', `/api/reservations/${encodeURIComponent(id)}/${verb}`, body);
  if (data && data.reservation) upsertReservation(data.reservation, true);
  if (data) log(`${verb} #${id}: done`);
}

// ---- houses (tenant) ----

// loadHouses shows a page of the current tab; an answer to an older call
// (another tab, filter or page asked meanwhile) is dropped.
async function loadHouses() {
  const my = ++s.housesCall, box = $('houses');
  box.setAttribute('aria-busy', 'true');
  let path;
  if (s.tab === 'personal') {
    path = '/house/personal-recommend' + query({ page: s.page, page_size: PAGE_SIZE }, true);
  } else {
    const f = $('filter-form').elements;
    path = '/house/recommend' + query({
      city: f.city.value, district: f.district.value, rooms: f.rooms.value,
      min_price: f.min_price.value, max_price: f.max_price.value, page: s.page, page_size: PAGE_SIZE,
    });
  }
  const data = await api('GET', path);
  if (my !== s.housesCall) return;
  box.setAttribute('aria-busy', 'false');
  if (!data || !Array.isArray(data.houses)) return;
  s.pages = Math.max(1, Math.ceil((data.total || 0) / PAGE_SIZE));
  $('page-info').textContent = `第 ${s.page} / ${s.pages} 页 · 共 ${data.total} 套`;
  $('page-prev').disabled = s.page <= 1;
  $('page-next').disabled = s.page >= s.pages;
  box.textContent = '';
  box.dataset.tab = s.tab;
  for (const h of data.houses) box.append(houseCard(h));
  if (!data.houses.length) box.append(el('p', 'hint', '没有符合条件的房源 · no houses match'));
}

function houseCard(h) {
  const card = el('article', 'house');
  card.dataset.houseId = h.house_id;
  card.append(el('h3', '', h.title), el('p', 'meta', `${h.city} · ${h.district}`),
    el('span', 'price', `${money(h.price)} /月`), el('p', 'meta', `${h.rooms} 室 · ${h.area} m² · #${h.house_id}`));
  const tags = el('div', 'tags');
  for (const t of h.tags || []) tags.append(el('span', '', t));
  if (typeof h.score === 'number') tags.append(el('span', '', `匹配 ${h.score.toFixed(2)}`));
  const b = el('button', 'primary', '预约看房 Book');
  b.type = 'button';
  b.setAttribute('aria-label', `预约看房 ${h.title} #${h.house_id}`);
  b.addEventListener('click', () => pickHouse(h));
  card.append(tags, b);
  return card;
}

function setTab(tab) {
  s.tab = tab;
  s.page = 1;
  for (const b of document.querySelectorAll('.tabs button')) b.setAttribute('aria-pressed', String(b.dataset.tab === tab));
  document.body.classList.toggle('personal', tab === 'personal');
  loadHouses();
}

function pickHouse(h) {
  s.house = h;
  $('book-house').textContent = `${h.title} · ${h.city} ${h.district} · ${money(h.price)}/月 · ${h.rooms} 室 · #${h.house_id}`;
  $('book').hidden = false;
  $('book-form').elements.reserve_time.value = tomorrowAt10();
  $('book-form').elements.user_name.focus();
}

// tomorrowAt10 is the default viewing time, for a datetime-local input.
function tomorrowAt10() {
  const d = new Date(Date.now() + 24 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T10:00`;
}

async function book(ev) {
  ev.preventDefault();
  const h = s.house, f = $('book-form').elements;
  if (!h) return;
  const at = new Date(f.reserve_time.value); // the browser's local time
  if (Number.isNaN(at.getTime())) return log('bad viewing time', 'ERROR');
  const data = await api('POST', '/house/reserve', {
    ...whoAmI('user_id'), user_name: f.user_name.value.trim(), house_id: h.house_id,
    landlord_id: h.landlord_id, house_title: h.title,
    reserve_time: at.toISOString().replace(/\.\d+Z$/, 'Z'), // RFC 3339: no zone ambiguity
  });
  if (data && data.reservation) {
    upsertReservation(data.reservation, true);
    log(`booked ${h.title} (#${h.house_id}): reservation #${data.reservation.reservation_id}`);
    $('book').hidden = true;
  }
}

// ---- wiring ----

function applyRole() {
  s.role = $('role').value;
  $('who').textContent = `${s.role === 'landlord' ? '房东 landlord' : '租客 tenant'} ${s.user || ''}`.trim();
  document.body.classList.toggle('role-tenant', s.role === 'tenant');
  document.body.classList.toggle('role-landlord', s.role === 'landlord');
}

$('connect-form').addEventListener('submit', (ev) => { ev.preventDefault(); start(); });
$('disconnect').addEventListener('click', stop);
$('bell').addEventListener('click', markAllRead);
$('mark-all').addEventListener('click', markAllRead);
$('role').addEventListener('change', () => {
  applyRole();
  if (!s.client || s.connects === 0) return;
  s.reservations.clear();
  renderReservations();
  loadReservations();
  if (s.role === 'tenant') loadHouses();
});
$('filter-form').addEventListener('submit', (ev) => { ev.preventDefault(); s.page = 1; loadHouses(); });
for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => setTab(b.dataset.tab));
$('page-prev').addEventListener('click', () => { if (s.page > 1) { s.page--; loadHouses(); } });
$('page-next').addEventListener('click', () => { if (s.page < s.pages) { s.page++; loadHouses(); } });
$('book-form').addEventListener('submit', book);
$('book-cancel').addEventListener('click', () => { $('book').hidden = true; });
$('refresh').addEventListener('click', () => { if (s.connects) loadReservations(); });
$('reservations').addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-verb]');
  if (b) act(b.closest('li').dataset.id, b.dataset.verb);
});

// Deep link: ?user_id=&role=&nodes= (user_id connects at once).
const params = new URLSearchParams(location.search);
$('user-id').value = params.get('user_id') || '';
$('role').value = params.get('role') === 'landlord' ? 'landlord' : 'tenant';
$('nodes').value = params.get('nodes') || '';
applyRole();
if (params.get('user_id')) start();
