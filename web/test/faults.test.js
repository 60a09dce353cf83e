// The client through node faults: a node killed (SIGKILL) and a node
// drained (SIGTERM) mid-stream, and the user's stream lost in Redis. Every
// pushed notification must arrive exactly once, in order within its epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../gateway-client.js';
import { Cluster, MemoryStorage, record, range, waitFor } from './helpers.js';

const N = 300;

// streamThroughFault connects a client to [a, b], pushes N notifications
// through b, and runs fault once the client has the first 50.
async function streamThroughFault(t, c, user, fault) {
  const a = await c.start('a');
  const b = await c.start('b');
  const client = c.track(connect({ url: [a.url, b.url], userId: user, storage: new MemoryStorage() }));
  const r = record(client);
  await waitFor('connected to a', () => r.of('connected').length === 1, 30000, r.describe);
  assert.equal(client.nodeId, 'a');
  const pushing = c.pushMany(b, user, N, 'm');
  await waitFor('50 notifications', () => r.notes.length >= 50, 60000, r.describe);
  await fault(a);
  await pushing;
  await waitFor(`${N} notifications`, () => r.notes.length >= N, 60000, r.describe);
  const epoch = r.notes[0].epoch;
  assert.deepEqual(r.seqs(epoch), range(1, N), 'every seq exactly once, in order');
  assert.deepEqual(r.notes.map((m) => m.content), range(0, N - 1).map((i) => `m-${i}`));
  assert.equal(client.nodeId, 'b');
  assert.deepEqual(r.of('reset'), []);
  const [lost] = r.timed('disconnected');
  assert.ok(lost.notes < N, `the connection ended after the stream (${lost.notes} of ${N} before it): no fault mid-stream`);
  return r;
}

test('resumes on another node after a SIGKILL, losing nothing', async (t) => {
  const c = new Cluster(t);
  const r = await streamThroughFault(t, c, 201, async (a) => {
    a.signal('SIGKILL');
    await a.exited;
  });
  const lost = r.of('disconnected')[0];
  assert.equal(lost.wasOpen, true);
  assert.equal(lost.willReconnect, true);
  assert.equal(r.of('connected').at(-1).nodeId, 'b');
});

test('resumes on another node after a drain (SIGTERM, 1001), losing nothing', async (t) => {
  const c = new Cluster(t);
  let exit;
  const r = await streamThroughFault(t, c, 202, async (a) => {
    a.signal('SIGTERM');
    exit = await a.exited;
  });
  assert.deepEqual(exit, { code: 0, signal: null });
  const closes = r.of('disconnected');
  assert.equal(closes[0].code, 1001, r.describe());
  assert.equal(closes[0].willReconnect, true);
  assert.equal(closes[0].delayMs, 0, 'after a drain the next URL at once');
});

test('follows a stream reset, live and on connect', async (t) => {
  const c = new Cluster(t);
  const a = await c.start('a');
  const storage = new MemoryStorage();
  const client = c.track(connect({ url: a.url, userId: 203, storage }));
  const r = record(client);
  await waitFor('connected', () => r.of('connected').length === 1, 30000, r.describe);
  await c.pushMany(a, 203, 3, 'old');
  await waitFor('3 notifications', () => r.notes.length === 3, 30000, r.describe);
  const e1 = r.notes[0].epoch;

  // Redis loses the stream while the client is connected.
  await c.redis('FLUSHDB');
  await c.pushMany(a, 203, 2, 'new');
  await waitFor('2 of the new epoch', () => r.notes.length === 5, 30000, r.describe);
  const [reset] = r.of('reset');
  assert.ok(reset, r.describe());
  const e2 = reset.epoch;
  assert.notEqual(e2, e1);
  assert.equal(reset.previousEpoch, e1);
  assert.equal(reset.lastSeq, 0);
  assert.deepEqual(r.seqs(e1), [1, 2, 3]);
  assert.deepEqual(r.seqs(e2), [1, 2]);
  assert.deepEqual(JSON.parse(storage.getItem('gateway:pos:203')), { epoch: e2, seq: 2 });

  // And while it is away: the next connection is told.
  client.close();
  await c.redis('FLUSHDB');
  await c.pushMany(a, 203, 2, 'newer');
  const again = c.track(connect({ url: a.url, userId: 203, storage }));
  const r2 = record(again);
  await waitFor('2 of the third epoch', () => r2.notes.length === 2, 30000, r2.describe);
  const [hello] = r2.of('connected');
  assert.equal(hello.reset, true);
  const [reset2] = r2.of('reset');
  assert.equal(reset2.previousEpoch, e2);
  assert.equal(reset2.epoch, hello.epoch);
  assert.notEqual(hello.epoch, e2);
  assert.deepEqual(r2.seqs(hello.epoch), [1, 2]);
  assert.deepEqual(r2.notes.map((m) => m.content), ['newer-0', 'newer-1']);
  assert.deepEqual(again.position, { epoch: hello.epoch, lastSeq: 2 });
  assert.deepEqual(r.errors.concat(r2.errors), []);
});
