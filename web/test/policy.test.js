// Sessions the gateway ends by policy: a token that expires (4001), an
// operator's disconnect (4003), a user over the session limit (4008).
// Each test skips when the gateway under test lacks the feature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from '../gateway-client.js';
import { BIN, Cluster, SECRET, record, range, waitFor } from './helpers.js';

test('a fixed token that expires ends the client (4001)', async (t) => {
  const c = new Cluster(t, { GATEWAY_AUTH_MODE: 'jwt', GATEWAY_JWT_SECRET: SECRET });
  const a = await c.start('a');
  const client = c.track(connect({ url: a.url, token: c.token(107, '2s') }));
  const r = record(client);
  await waitFor('connected', () => r.of('connected').length === 1, 30000, r.describe);
  if (typeof r.of('connected')[0].exp !== 'number') {
    t.skip('this gateway announces no token expiry (exp): sessions do not end with their token');
    return;
  }
  await waitFor('closed', () => client.state === 'closed', 30000, r.describe);
  assert.equal(r.errors[0].code, 'token_expired', r.describe());
  assert.equal(r.errors[0].fatal, true);
  assert.deepEqual(r.of('disconnected').map((d) => [d.code, d.willReconnect]), [[4001, false]]);
});

test('an operator\'s disconnect (4003) is followed by a late reconnect, losing nothing', async (t) => {
  const c = new Cluster(t);
  const a = await c.start('a');
  const client = c.track(connect({ url: a.url, userId: 106 }));
  const r = record(client);
  await waitFor('connected', () => r.of('connected').length === 1, 30000, r.describe);
  await c.pushMany(a, 106, 3, 'before');
  await waitFor('3 notifications', () => r.notes.length === 3, 30000, r.describe);
  const res = await fetch(`${a.url}/api/users/106/disconnect`, {
    method: 'POST', headers: { Authorization: 'Bearer ' + c.env.GATEWAY_API_KEY },
  });
  if (res.status === 404) {
    t.skip('this gateway has no POST /api/users/{id}/disconnect');
    return;
  }
  assert.equal(res.status, 200, await res.text());
  await c.pushMany(a, 106, 3, 'after');
  await waitFor('reconnected', () => r.of('connected').length === 2, 30000, r.describe);
  await waitFor('6 notifications', () => r.notes.length === 6, 30000, r.describe);
  assert.deepEqual(r.seqs(), range(1, 6));
  const [closed] = r.of('disconnected');
  assert.equal(closed.code, 4003);
  assert.equal(closed.willReconnect, true);
  assert.deepEqual(r.errors.map((e) => [e.code, e.fatal]), [['revoked', false]]);
});

test('the oldest session closed for a newer one (4008) does not fight back', async (t) => {
  if (!execFileSync(BIN, ['config', 'reference']).toString().includes('sessions_per_user')) {
    t.skip('this gateway has no limits.sessions_per_user');
    return;
  }
  const c = new Cluster(t, { GATEWAY_LIMITS_SESSIONS_PER_USER: '1', GATEWAY_LIMITS_SESSION_POLICY: 'close_oldest' });
  const a = await c.start('a');
  const old = c.track(connect({ url: a.url, userId: 108 }));
  const ro = record(old);
  await waitFor('first connected', () => ro.of('connected').length === 1, 30000, ro.describe);
  const young = c.track(connect({ url: a.url, userId: 108 }));
  const ry = record(young);
  await waitFor('the first closed', () => old.state === 'closed', 30000, ro.describe);
  assert.equal(ro.errors[0].code, 'too_many_sessions');
  assert.deepEqual(ro.of('disconnected').map((d) => [d.code, d.willReconnect]), [[4008, false]]);
  await waitFor('second connected', () => ry.of('connected').length === 1, 30000, ry.describe);
  await c.push(a, 108, 'to-the-young');
  await waitFor('a notification', () => ry.notes.length === 1, 30000, ry.describe);
  assert.equal(young.state, 'open');
  assert.equal(ro.of('connected').length, 1);
});
