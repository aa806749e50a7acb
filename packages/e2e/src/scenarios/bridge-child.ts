/**
 * A `pigeon bridge` on "another machine": its own process, outside the censor, forwarding to the
 * relay's public wss:// address. The relay's certificate is trusted the way an operator's machine
 * would trust it (NODE_EXTRA_CA_CERTS, set by the parent), because BridgeOptions has no way to pin
 * or add a CA for the relay (see CONTEXT.md "Censor scenarios").
 *
 * Usage: node bridge-child.js --relay URL --cert FILE --key FILE --map NAME=IP [--sni NAME]
 * Prints one JSON line {"event":"bridge","link","port"} once listening, then one line per bridge
 * log event (secret-free). Stops when stdin closes or on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultBackend } from '@pigeon/crypto';
import { staticResolver } from '@pigeon/lab';
import { realDialer } from '@pigeon/transport';
import { certificateSha256, startBridge } from '@pigeon/bridge';

const { values } = parseArgs({
  options: {
    relay: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    map: { type: 'string', multiple: true },
    sni: { type: 'string' },
    path: { type: 'string' },
  },
});
if (values.relay === undefined || values.cert === undefined || values.key === undefined) {
  console.error('usage: bridge-child --relay URL --cert FILE --key FILE [--map NAME=IP]');
  process.exit(2);
}
const table: Record<string, string> = {};
for (const m of values.map ?? []) {
  const [name, ip] = m.split('=');
  if (name !== undefined && ip !== undefined) table[name] = ip;
}
const cert = readFileSync(values.cert, 'utf8');
const key = readFileSync(values.key, 'utf8');
const crypto = defaultBackend();
const bridge = await startBridge({
  relayUrl: values.relay,
  certificate: { cert, key, sha256: certificateSha256(cert) },
  secret: crypto.randomBytes(32),
  path: values.path ?? '/static/app',
  ...(values.sni !== undefined ? { sni: values.sni } : {}),
  // Held polls end within 3 s so a test's shutdown never waits on one.
  pollHoldMs: 3_000,
  net: { dialer: realDialer, resolver: staticResolver(table) },
  crypto,
  log: (event, fields) => console.log(JSON.stringify({ event, ...fields })),
});
console.log(JSON.stringify({ event: 'bridge', link: bridge.link, port: bridge.port }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ event: 'stats', stats: bridge.stats }));
  await bridge.stop();
  process.exit(0);
};
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
