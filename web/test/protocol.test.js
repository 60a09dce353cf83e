// The JavaScript client's reconnect and refresh rules against the Go
// client's: web/test/protocol-vectors.json is generated from pkg/protocol
// (Decide, RefreshDelay) by `make protocol`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decide, refreshDelay, CLOSE_CODES } from '../gateway-client.js';

const vectors = JSON.parse(readFileSync(new URL('./protocol-vectors.json', import.meta.url)));

test('decide gives pkg/protocol.Decide\'s answer for every vector', () => {
  let n = 0;
  for (const v of vectors.filter((x) => x.attempt)) {
    const a = v.attempt;
    const got = decide({
      code: a.code, status: a.status, retryAfterMs: a.retry_after_ms, wasOpen: a.was_open, attempts: a.attempts,
      advice: a.advice, tokenSource: a.token_source, random: a.random,
    });
    assert.deepEqual(got, { reconnect: v.decision.reconnect, delayMs: v.decision.delay_ms }, JSON.stringify(a));
    n++;
  }
  assert.ok(n > 100, `only ${n} vectors`);
});

test('refreshDelay gives pkg/protocol.RefreshDelay\'s answer', () => {
  for (const v of vectors.filter((x) => x.refresh)) {
    const r = v.refresh;
    assert.equal(refreshDelay(r.left_ms), r.ok ? r.delay_ms : null, `left ${r.left_ms} ms`);
  }
});

test('every close code has its advice', () => {
  for (const [code, info] of Object.entries(CLOSE_CODES)) {
    assert.ok(['resume', 'resume_now', 'fresh_token', 'resume_late', 'stop'].includes(info.advice), `${code}: ${info.advice}`);
  }
});
