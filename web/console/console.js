// The operator console (console/index.html): nodes, one user's sessions and
// stream, and the operator's actions on that user. Every request goes to
// /console/api/ with the credentials the browser already sent for the page
// (same origin, so the node's cross-origin check lets the actions through).
const api = (path, init = {}) =>
  fetch('api/' + path, { credentials: 'same-origin', ...init, headers: { 'Content-Type': 'application/json', ...(init.headers || {}) } })
    .then(async (r) => {
      const body = r.status === 204 ? {} : await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`);
      return body;
    });

const $ = (id) => document.getElementById(id);
const time = (v) => (v ? new Date(v).toLocaleString() : '');
const TYPES = { 1: 'created', 2: 'confirmed', 3: 'cancelled', 4: 'reminder', 5: 'rejected', 6: 'push' };

function row(tbody, cells) {
  const tr = document.createElement('tr');
  for (const [text, cls] of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  tbody.append(tr);
}

function show(el, text, ok) {
  el.textContent = text;
  el.hidden = !text;
  el.classList.toggle('ok', !!ok);
}

async function loadNodes() {
  const tbody = $('nodes').tBodies[0];
  try {
    const s = await api('nodes');
    tbody.replaceChildren();
    for (const n of s.nodes || []) {
      row(tbody, [[n.node_id], [(n.extra && n.extra.version) || ''], [String(n.connections), 'num'], [String(n.users), 'num'],
        [time(n.started_at * 1000)], [time(n.heartbeat_at)]]);
    }
    $('totals').textContent = `${s.total_connections} connections, ${s.online_users} users online`;
    show($('nodes-error'), '');
  } catch (e) {
    show($('nodes-error'), 'Nodes: ' + e.message);
  }
}

// position is a session's cells for its place in the stream: the state,
// the highest seq sent, and the highest acknowledged (clients that ack).
function position(p) {
  if (!p) return [['(node did not answer)'], [''], ['']];
  return [[p.state.replace('_', ' ')], [String(p.sent_seq), 'num'], [p.acks ? String(p.acked_seq) : 'no acks', 'num']];
}

let current = 0;

async function loadUser(id) {
  current = id;
  try {
    const u = await api('users/' + id);
    const sessions = $('sessions').tBodies[0];
    sessions.replaceChildren();
    for (const s of u.sessions || []) {
      row(sessions, [[s.id || '(not counted)', 'num'], [s.node_id], [time(s.since * 1000)], ...position(s.position)]);
    }
    if (!u.sessions || !u.sessions.length) {
      row(sessions, [[u.sessions ? 'no live session' : 'not counted (limits.sessions_per_user is 0)']]);
      sessions.lastChild.firstChild.colSpan = 6;
    }
    $('revoked').textContent = u.revoked_until ? `new sessions refused until ${time(u.revoked_until * 1000)}` : '';
    $('epoch').textContent = u.stream.epoch || '(no stream)';
    $('head').textContent = u.stream.head_seq;
    $('delivered').textContent = u.stream.delivered_seq;
    $('stored').textContent = `${u.stream.stored} message(s)`;
    const messages = $('messages').tBodies[0];
    messages.replaceChildren();
    for (const m of u.messages) {
      row(messages, [[String(m.seq), 'num'], [TYPES[m.type] || String(m.type)], [m.title || ''], [m.content || ''], [time(m.ts)]]);
    }
    $('user-view').hidden = false;
    show($('user-error'), '');
  } catch (e) {
    $('user-view').hidden = true;
    show($('user-error'), e.message);
  }
}

async function act(what, request) {
  try {
    const r = await request();
    show($('act-result'), what + ': ' + JSON.stringify(r), true);
  } catch (e) {
    show($('act-result'), what + ': ' + e.message);
  }
  await loadUser(current);
}

$('lookup').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loadUser(Number($('user').value));
});
$('push').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  act('Published', () => api(`users/${current}/push`, { method: 'POST', body: JSON.stringify({ title: f.get('title'), content: f.get('content') }) }));
});
$('disconnect').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const minutes = Number(new FormData(ev.target).get('minutes')) || 0;
  const body = minutes > 0 ? { until: Math.floor(Date.now() / 1000) + minutes * 60 } : {};
  act('Disconnected', () => api(`users/${current}/disconnect`, { method: 'POST', body: JSON.stringify(body) }));
});
$('lift').addEventListener('click', () => act('Lifted', () => api(`users/${current}/revocation`, { method: 'DELETE' })));

loadNodes();
setInterval(loadNodes, 5000);
const initial = new URLSearchParams(location.search).get('user');
if (initial) {
  $('user').value = initial;
  loadUser(Number(initial));
}
