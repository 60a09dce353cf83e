// Helpers of the client's tests: real gateway processes, pushes, a Redis
// flush, a TCP proxy that delays or stalls bytes, and a recorder of what a
// client saw. The tests run under
// `go test ./cmd/gateway/systest -run TestJSClient` (TestJSClient gives them
// the gateway binary, a database and a Redis DB through GATEWAY_JS_BIN and
// GATEWAY_JS_NODE_ENV).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export const BIN = process.env.GATEWAY_JS_BIN;
const BASE_ENV = JSON.parse(process.env.GATEWAY_JS_NODE_ENV || 'null');
if (!BIN || !BASE_ENV) {
  throw new Error('GATEWAY_JS_BIN and GATEWAY_JS_NODE_ENV are not set: run these tests with go test ./cmd/gateway/systest -run TestJSClient');
}
export const SECRET = '0123456789abcdef0123456789abcdef';
const SETPRIV = existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;

/** waitFor polls cond every 10 ms until it holds, failing after ms. */
export async function waitFor(what, cond, ms = 30000, detail = () => '') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms. ${detail()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** MemoryStorage implements the part of the Web Storage interface the client uses. */
export class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) { this.map.set(k, String(v)); }
  removeItem(k) { this.map.delete(k); }
}

/**
 * Cluster is a deployment of the test: gateway nodes sharing the run's
 * database and Redis DB under a namespace of their own, removed (with its
 * proxies and clients) when the test ends.
 */
export class Cluster {
  constructor(t, extra = {}) {
    this.env = { ...BASE_ENV, GATEWAY_REDIS_NAMESPACE: 'js' + randomBytes(4).toString('hex'), ...extra };
    this.cleanups = [];
    t.after(() => this.cleanup());
  }

  async cleanup() {
    for (const fn of this.cleanups.reverse()) {
      try { await fn(); } catch { /* best effort */ }
    }
  }

  /** start runs `gateway serve` as node id and waits until it is ready. */
  async start(id, extra = {}) {
    const env = { ...this.env, GATEWAY_NODE_ID: id, ...extra };
    const args = SETPRIV ? ['--pdeathsig', 'KILL', '--', BIN, 'serve'] : ['serve'];
    const child = spawn(SETPRIV || BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = new GatewayNode(id, child);
    this.cleanups.push(() => node.kill());
    await node.listening();
    await waitFor(`node ${id} ready`, async () => {
      try { return (await fetch(node.url + '/readyz')).status === 200; } catch { return false; }
    });
    return node;
  }

  /** push publishes one generic message to user through node (retrying: the key makes it safe). */
  async push(node, user, key) {
    const body = JSON.stringify({ user_ids: [user], title: 't', content: key, idempotency_key: key });
    let last;
    for (let i = 0; i < 20; i++) {
      try {
        const res = await fetch(node.url + '/api/push', {
          method: 'POST', body,
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + this.env.GATEWAY_API_KEY },
        });
        if (res.ok) return (await res.json()).results[0];
        last = `${res.status} ${await res.text()}`;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`push to ${user}: ${last}`);
  }

  /** pushMany pushes n messages to user one after the other, keys prefix-0.. */
  async pushMany(node, user, n, prefix) {
    for (let i = 0; i < n; i++) await this.push(node, user, `${prefix}-${i}`);
  }

  /** redis sends one command to the deployment's Redis DB. */
  redis(...args) {
    return redisCommand(this.env.GATEWAY_REDIS_ADDR, Number(this.env.GATEWAY_REDIS_DB), args);
  }

  /** streamKey is the Redis hash of user's stream. */
  streamKey(user) {
    return `{${this.env.GATEWAY_REDIS_NAMESPACE}:${this.env.GATEWAY_REDIS_DB}:u:${user}}:stream`;
  }

  /** token signs a jwt for user with the gateway's own command. */
  token(user, ttl = '10m') {
    return execFileSync(BIN, ['token', '-user', String(user), '-ttl', ttl], { env: this.env }).toString().trim();
  }

  /** proxy forwards a loopback port to node; see Proxy. */
  async proxy(node) {
    const p = new Proxy(new URL(node.url).port);
    await p.listen();
    this.cleanups.push(() => p.close());
    return p;
  }

  /** track closes a client when the test ends. */
  track(client) {
    this.cleanups.push(() => client.close());
    return client;
  }
}

/** GatewayNode is one `gateway serve` process. */
class GatewayNode {
  constructor(id, child) {
    this.id = id;
    this.child = child;
    this.logs = '';
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.stderr.on('data', (b) => { this.logs += b; });
  }

  listening() {
    return new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`node ${this.id} did not listen within 60 s:\n${this.logs}`)), 60000);
      this.child.stdout.on('data', (b) => {
        this.logs += b;
        buf += b;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const l = JSON.parse(line);
            if (l.msg === 'gateway listening') {
              clearTimeout(timer);
              this.url = 'http://' + l.http_addr;
              resolve();
            }
          } catch { /* not JSON */ }
        }
      });
      this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`node ${this.id} exited (${code ?? signal}) before listening:\n${this.logs}`));
      });
    });
  }

  /** signal sends sig (SIGKILL, SIGTERM) to the process. */
  signal(sig) { this.child.kill(sig); }

  async kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Proxy forwards TCP connections from a loopback port to a node, each
 * direction in order: delay (ms) holds every slice of slice bytes that
 * long (a slow, fragmenting network); stall() stops forwarding in both
 * directions without closing anything (a half-open connection: reads stop
 * too, so the sender's buffers fill), heal() resumes.
 */
export class Proxy {
  constructor(targetPort) {
    this.targetPort = Number(targetPort);
    this.delay = 0;
    this.slice = 0;
    this.stalled = false;
    this.waiters = [];
    this.sockets = new Set();
    this.server = net.createServer((c) => this.serve(c));
  }

  async listen() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  serve(client) {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  forward(src, dst) {
    const queue = [];
    let running = false, ended = false;
    const pump = async () => {
      if (running) return;
      running = true;
      while (queue.length || ended) {
        if (this.stalled) {
          src.pause();
          await new Promise((r) => this.waiters.push(r));
          continue;
        }
        if (!queue.length) { // src closed and everything is through
          dst.destroy();
          break;
        }
        const chunk = queue.shift();
        const step = this.slice || chunk.length;
        for (let i = 0; i < chunk.length; i += step) {
          if (this.delay) await new Promise((r) => setTimeout(r, this.delay));
          while (this.stalled) await new Promise((r) => this.waiters.push(r));
          if (dst.destroyed) return;
          dst.write(chunk.subarray(i, i + step));
        }
        if (queue.length < 4 && !this.stalled) src.resume();
      }
      running = false;
    };
    src.on('data', (b) => {
      queue.push(b);
      if (queue.length >= 16) src.pause();
      pump();
    });
    src.on('close', () => { ended = true; pump(); });
  }

  stall() { this.stalled = true; }

  heal() {
    this.stalled = false;
    for (const r of this.waiters.splice(0)) r();
  }

  async close() {
    this.stalled = false;
    for (const r of this.waiters.splice(0)) r();
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * record keeps what a client emitted, in order: notifications (with their
 * epoch and seq) and every other event.
 */
export function record(client) {
  const r = { notes: [], events: [], errors: [] };
  client.on('notification', (m) => r.notes.push(m));
  // Each event with the time and how many notifications had come before it.
  for (const e of ['connected', 'disconnected', 'reset']) {
    client.on(e, (x) => r.events.push({ event: e, ...x, at: Date.now(), notes: r.notes.length }));
  }
  client.on('error', (err) => r.errors.push(err));
  r.of = (event) => r.events.filter((e) => e.event === event).map(({ at, notes, ...x }) => x);
  r.timed = (event) => r.events.filter((e) => e.event === event);
  r.seqs = (epoch) => r.notes.filter((m) => epoch === undefined || m.epoch === epoch).map((m) => m.seq);
  r.describe = () => `events: ${JSON.stringify(r.events.slice(-10))}; seqs: ${summarize(r.seqs())}; errors: ${r.errors.map((e) => e.code + ' ' + e.message).join('; ')}`;
  return r;
}

/** range returns [from, from+1, ..., to]. */
export function range(from, to) {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

function summarize(seqs) {
  return seqs.length <= 20 ? seqs.join(',') : `${seqs.slice(0, 5).join(',')} … ${seqs.slice(-10).join(',')} (${seqs.length})`;
}

// redisCommand sends SELECT db and one command in RESP and returns the
// command's reply (a string, a number or null).
function redisCommand(addr, db, args) {
  const [host, port] = addr.split(':');
  const encode = (a) => `*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), host);
    let buf = '';
    const replies = [];
    sock.on('error', reject);
    sock.on('data', (b) => {
      buf += b;
      for (;;) {
        const i = buf.indexOf('\r\n');
        if (i < 0) break;
        const head = buf.slice(0, i);
        let rest = buf.slice(i + 2);
        let value;
        if (head[0] === '$') {
          const n = Number(head.slice(1));
          if (n < 0) value = null;
          else {
            if (Buffer.byteLength(rest) < n + 2) break;
            value = rest.slice(0, n);
            rest = rest.slice(n + 2);
          }
        } else if (head[0] === '-') {
          sock.destroy();
          return reject(new Error(`redis ${args[0]}: ${head}`));
        } else value = head[0] === ':' ? Number(head.slice(1)) : head.slice(1);
        buf = rest;
        replies.push(value);
        if (replies.length === 2) {
          sock.end();
          return resolve(replies[1]);
        }
      }
    });
    sock.write(encode(['SELECT', db]) + encode(args));
  });
}
