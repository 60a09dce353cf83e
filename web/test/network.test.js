// The client over a bad network, through a TCP proxy: slow and fragmenting,
// half-open (bytes stop, nothing closes), and stalled during the handshake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../gateway-client.js';
import { Cluster, MemoryStorage, record, range, waitFor } from './helpers.js';

test('a slow, fragmenting network delivers everything once, in order', async (t) => {
  const c = new Cluster(t);
  const a = await c.start('a');
  const slow = await c.proxy(a);
  slow.slice = 100; // bytes per write: frames arrive in pieces
  slow.delay = 2; // ms before each piece: about 50 KB/s each way
  const client = c.track(connect({ url: slow.url, userId: 301, pingInterval: 200, pongTimeout: 5000 }));
  const r = record(client);
  await waitFor('connected', () => r.of('connected').length === 1, 30000, r.describe);
  const n = 200;
  await c.pushMany(a, 301, n, 'slow');
  await waitFor(`${n} notifications`, () => r.notes.length === n, 60000, r.describe);
  assert.deepEqual(r.seqs(r.notes[0].epoch), range(1, n));
  assert.deepEqual(r.notes.map((m) => m.content), range(0, n - 1).map((i) => `slow-${i}`));
  assert.deepEqual(r.errors, []);
});

test('an idle, healthy connection pings and stays', async (t) => {
  const c = new Cluster(t);
  const a = await c.start('a');
  const pings = [];
  // The WebSocket option lets the test see what the client sends.
  class Counting extends WebSocket {
    send(data) {
      if (JSON.parse(data).action === 'ping') pings.push(Date.now());
      super.send(data);
    }
  }
  const client = c.track(connect({ url: a.url, userId: 304, pingInterval: 100, pongTimeout: 1000, WebSocket: Counting }));
  const r = record(client);
  await waitFor('5 pings', () => pings.length >= 5, 30000, r.describe);
  assert.equal(r.of('connected').length, 1, r.describe());
  assert.deepEqual(r.of('disconnected'), []);
  await c.push(a, 304, 'still-here');
  await waitFor('a notification', () => r.notes.length === 1, 30000, r.describe);
});

test('a half-open connection is noticed within pingInterval + pongTimeout and replaced', async (t) => {
  const c = new Cluster(t);
  const a = await c.start('a');
  const b = await c.start('b');
  const pa = await c.proxy(a);
  const pb = await c.proxy(b);
  const pingInterval = 300, pongTimeout = 1000;
  const client = c.track(connect({ url: [pa.url, pb.url], userId: 302, storage: new MemoryStorage(), pingInterval, pongTimeout }));
  const r = record(client);
  await waitFor('connected through a', () => r.of('connected').length === 1, 30000, r.describe);
  assert.equal(client.nodeId, 'a');
  await c.pushMany(b, 302, 20, 'm');
  await waitFor('20 notifications', () => r.notes.length === 20, 30000, r.describe);

  // The path to a goes silent without closing; pushes go on meanwhile.
  pa.stall();
  const stalledAt = Date.now();
  await c.pushMany(b, 302, 20, 'n');
  await waitFor('the dead connection given up', () => r.of('disconnected').length === 1, 30000, r.describe);
  const [lost] = r.timed('disconnected');
  assert.equal(lost.reason, 'no answer to ping within pongTimeout');
  assert.equal(lost.wasOpen, true);
  // Bounded: a ping after pingInterval of silence, given up pongTimeout
  // later (plus slack for a busy machine).
  const took = lost.at - stalledAt;
  assert.ok(took <= pingInterval + pongTimeout + 4000, `noticed after ${took} ms`);

  await waitFor('40 notifications', () => r.notes.length === 40, 30000, r.describe);
  assert.equal(client.nodeId, 'b');
  const epoch = r.notes[0].epoch;
  assert.deepEqual(r.seqs(epoch), range(1, 40));
  assert.deepEqual(r.notes.map((m) => m.content), [...range(0, 19).map((i) => `m-${i}`), ...range(0, 19).map((i) => `n-${i}`)]);
  assert.equal(r.of('connected')[1].lastSeq, 20);
  assert.deepEqual(r.errors, []);
});

test('a handshake that stalls is given up after connectTimeout', async (t) => {
  const c = new Cluster(t);
  const a = await c.start('a');
  const dead = await c.proxy(a);
  dead.stall();
  const client = c.track(connect({ url: [dead.url, a.url], userId: 303, connectTimeout: 500 }));
  const r = record(client);
  await waitFor('connected through the second url', () => r.of('connected').length === 1, 30000, r.describe);
  const [lost] = r.of('disconnected');
  assert.equal(lost.reason, 'no connected frame within connectTimeout');
  assert.equal(lost.wasOpen, false);
  assert.equal(r.of('connected')[0].url, a.url.replace('http:', 'ws:') + '/ws');
});
