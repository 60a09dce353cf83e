// The inbox through the client: counts from connected and inbox events on
// two nodes, marks from one device reaching the other, bad marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../gateway-client.js';
import { Cluster, record, waitFor } from './helpers.js';

test('two devices of a user on two nodes share the inbox counts and marks', async (t) => {
  const c = new Cluster(t);
  const [a, b] = [await c.start('a'), await c.start('b')];
  await c.pushMany(a, 401, 2, 'old');
  const phone = c.track(connect({ url: a.url, userId: 401, lastSeq: 2 }));
  const laptop = c.track(connect({ url: b.url, userId: 401, lastSeq: 2 }));
  const [rp, rl] = [record(phone), record(laptop)];
  const inboxes = [];
  laptop.on('inbox', (x) => inboxes.push(x));
  await waitFor('both connected', () => rp.of('connected').length === 1 && rl.of('connected').length === 1, 30000, rl.describe);
  assert.equal(rl.of('connected')[0].unread, 2);
  assert.deepEqual(phone.counts, { unseen: 2, unread: 2 });
  assert.equal(phone.mark({ state: 'read', seq: 1 }), true); // old messages too: the seq of the stored list

  await c.pushMany(a, 401, 1, 'new');
  await waitFor('the new message', () => rp.notes.length === 1 && rl.notes.length === 1, 30000, rp.describe);
  await waitFor('laptop counts 2/2', () => laptop.counts.unseen === 2 && laptop.counts.unread === 2, 10000, () => JSON.stringify(inboxes));
  const start = Date.now();
  assert.equal(phone.markRead(rp.notes[0]), true);
  await waitFor('laptop counts 1/1', () => laptop.counts.unread === 1, 1000, () => JSON.stringify(inboxes));
  t.diagnostic(`a read on one node reached the other in ${Date.now() - start} ms`);
  assert.equal(laptop.mark({ state: 'seen', all: true }), true);
  await waitFor('phone counts 0/1', () => phone.counts.unseen === 0 && phone.counts.unread === 1, 5000);
  assert.deepEqual(inboxes.at(-1), { unseen: 0, unread: 1 });

  // Bad marks: thrown before sending, or an error event from the gateway.
  assert.throws(() => phone.mark({ state: 'opened', seq: 1 }), TypeError);
  assert.throws(() => phone.mark({ state: 'read', seq: 1, all: true }), TypeError);
  assert.equal(phone.mark({ state: 'read', seq: 99 }), true);
  await waitFor('not_found', () => rp.errors.some((e) => e.code === 'not_found'), 5000, rp.describe);
  assert.equal(phone.state, 'open');
});
