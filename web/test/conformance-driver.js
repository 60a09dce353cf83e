// The JavaScript client under the protocol conformance suite
// (cmd/gateway/systest/conformance_test.go): it connects with the options
// given as JSON in argv[2] and reports, one JSON line each on stdout, every
// notification and event. With "token": true it asks the suite for every
// token ({"kind":"token"} out, one {"token":...} line in per ask), so that
// the suite's token source (fresh or caching) is the same for every
// client. Lines in: {"token":...}, {"cmd":"stall","ms":N} (block the event
// loop, as a frozen app would), {"cmd":"close"}.
import { createInterface } from 'node:readline';
import { connect } from '../gateway-client.js';

const opts = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const waiting = []; // resolvers of token asks, in order

const options = { url: opts.urls, ackInterval: opts.ackEach ? 0 : undefined, pingInterval: opts.pingMs || undefined };
if (opts.userId) options.userId = opts.userId;
if (opts.lastSeq !== undefined && opts.lastSeq !== null) {
  options.lastSeq = opts.lastSeq;
  options.epoch = opts.epoch || '';
}
if (opts.token) {
  options.getToken = () => new Promise((resolve) => {
    waiting.push(resolve);
    out({ kind: 'token' });
  });
}
const client = connect(options);
client.on('notification', (m) => out({ kind: 'note', seq: m.seq, epoch: m.epoch, content: m.content }));
client.on('connected', (e) => out({ kind: 'connected', node: e.nodeId, truncated: e.truncated, reset: e.reset, lastSeq: e.lastSeq }));
client.on('disconnected', (e) => out({ kind: 'disconnected', code: e.code, willReconnect: e.willReconnect }));
client.on('reset', (e) => out({ kind: 'reset', epoch: e.epoch }));
client.on('error', (e) => out({ kind: 'error', code: e.code || 'error', fatal: !!e.fatal, message: String(e.message) }));

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.token !== undefined) return waiting.shift()?.(m.token);
  if (m.cmd === 'stall') {
    const until = Date.now() + m.ms;
    while (Date.now() < until) { /* frozen */ }
    return;
  }
  if (m.cmd === 'close') {
    client.close();
    out({ kind: 'closed' });
    setTimeout(() => process.exit(0), 50);
  }
}).on('close', () => process.exit(0));
