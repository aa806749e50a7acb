#!/usr/bin/env node
// CPU time the relay process spends per delivered message (user + sys from /proc/<pid>/stat, so
// it is meaningful even on a busy machine where throughput is not). One relay child on SQLite
// (durability full, the default) with the load harness's limit flags; `devices` registered
// devices online, each acking every delivery at once; a fixed number of 1:1 sends of 256-byte
// payloads on the sealed-send path (real frames through bench/src/common/pigeon-link.ts) at a fixed
// open-loop rate below saturation. CPU is read after setup and once every send is answered, every
// message delivered and every ack answered. `--system=bare` runs the bare ws forwarder (the floor).
//   npx tsc -b bench && node packages/relay/scripts/relay-cpu-bench.mjs \
//     [--system=relay|bare] [--bin=path/to/relay/dist/src/bin.js] [--messages=20000] [--rate=2000]
//     [--devices=200] [--runs=3] [--node-flags="--cpu-prof --cpu-prof-dir=/tmp/prof"]
//     [--compare=another/build/dist/src/bin.js] [--relay-flags="--store-thread"] [--compare-flags=...]
//   --relay-flags / --compare-flags add relay command-line flags to the first / the --compare relay
//   (e.g. the same build with and without --store-thread side by side: --compare=<its bin.js>).
// CPU per message moves by +-25% with the machine's load between runs (a busier machine makes
// bigger group commits), so compare builds with --compare: both relays run at the same time with
// their sends interleaved (each at --rate), and the ratio per run is the figure to trust.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as codec from '@pigeon/api';
import * as protocol from '@pigeon/protocol';
import { defaultBackend } from '@pigeon/crypto';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const load = (file) => import(new URL(`bench/dist/src/load/${file}`, `file://${REPO}`).href);
const { PigeonLink } = await import(new URL('bench/dist/src/common/pigeon-link.js', `file://${REPO}`).href);
const { spawnServer } = await load('spawn-server.js');
const { PayloadPool } = await load('payload.js');

const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
};
const system = arg('system', 'relay');
/** --compare=<another build's bin.js>: both relays run side by side, sends interleaved (A/B under the same load). */
const bin = arg('bin', join(REPO, 'packages/relay/dist/src/bin.js'));
const messages = Number(arg('messages', 20_000));
const rate = Number(arg('rate', 2000));
const deviceCount = Number(arg('devices', 200));
const runs = Number(arg('runs', 3));
const nodeFlags = arg('node-flags', '').split(/\s+/).filter((f) => f !== '');
const relayFlags = arg('relay-flags', '').split(/\s+/).filter((f) => f !== '');
const compareFlags = arg('compare-flags', '').split(/\s+/).filter((f) => f !== '');
const LIMIT_FLAGS = [
  '--max-connections-per-address', '100000',
  '--limit', 'connectionFramesPerSecond=1000000', '--limit', 'connectionFrameBurst=1000000',
  '--limit', 'addressFramesPerSecond=10000000', '--limit', 'addressFrameBurst=10000000',
];
const TICK_MS = 2;
const USER_HZ = 100;

/** user and system CPU ms of a process (fields 14 and 15 of /proc/<pid>/stat). */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(rest[11]) * 1000) / USER_HZ, sys: (Number(rest[12]) * 1000) / USER_HZ };
}
const crypto = defaultBackend();
const pool = new PayloadPool();

/** One server under test: the relay build at `relayBin`, or the bare forwarder when relayBin is undefined. */
async function startServer(relayBin, extraFlags) {
  if (relayBin === undefined) {
    const node = await spawnServer([join(REPO, 'bench/dist/src/load/bare-forwarder.js')], 'bare forwarder');
    return { node, bare: true, cleanup: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-relay-cpu-'));
  const node = await spawnServer([...nodeFlags, relayBin, '--port', '0', '--data', dir, '--quiet', ...LIMIT_FLAGS, ...extraFlags], 'relay');
  return { node, bare: false, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function openDevice(url, bare, i) {
  const link = await PigeonLink.open(url, `127.0.0.${10 + (i % 200)}`, codec);
  const token = new Uint8Array(randomBytes(16));
  let id;
  if (bare) {
    id = new Uint8Array(randomBytes(16));
    await link.requestOk({ type: 'auth', deviceId: id, signature: new Uint8Array(64) }, 'auth');
  } else {
    const account = await protocol.createAccountKeys(crypto);
    const keys = await protocol.createDeviceKeys(crypto, account, Date.now());
    id = await protocol.deviceIdOf(crypto, keys.certificate.deviceSigningKey);
    const nonce = await link.challenge();
    const signature = await crypto.ed25519Sign(keys.signing.secretKey, protocol.authMessage(nonce));
    await link.requestOk({ type: 'register', certificate: protocol.encodeDeviceCertificate(keys.certificate), signature }, 'register');
    await link.requestOk({ type: 'set_delivery_tokens', add: [token], remove: [] }, 'set_delivery_tokens');
  }
  return { link, id, token };
}

const until = async (done, what, ms = 120_000) => {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/**
 * One run against each server in `bins` at the same time (the total rate split evenly, sends
 * interleaved), so an A/B comparison sees the same machine load on both sides.
 */
async function once(bins) {
  const servers = [];
  try {
    for (const [i, b] of bins.entries()) servers.push(await startServer(b, i === 0 ? relayFlags : compareFlags));
    const sides = [];
    for (const server of servers) {
      const devices = [];
      for (let i = 0; i < deviceCount; i += 50) {
        devices.push(...(await Promise.all(Array.from({ length: Math.min(50, deviceCount - i) }, (_, j) => openDevice(server.node.url, server.bare, i + j)))));
      }
      const side = { server, devices, delivered: 0, answered: 0, refused: 0, sent: 0 };
      for (const d of devices) {
        d.link.onDeliver = () => {
          side.delivered++;
        };
      }
      sides.push(side);
    }
    const cpu0 = sides.map((side) => cpuOf(side.server.node.pid));
    const driver0 = process.cpuUsage();
    const start = performance.now();
    const total = messages * sides.length;
    let sent = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate * sides.length));
        for (; sent < due; sent++) {
          const side = sides[sent % sides.length];
          const n = side.sent++;
          const from = side.devices[n % deviceCount];
          const to = side.devices[(n * 7 + 1 + Math.floor(n / deviceCount)) % deviceCount];
          const messageId = new Uint8Array(randomBytes(16));
          const { bytes } = pool.stamp(0, 0, n);
          from.link.request({ type: 'send', messageId, recipientDeviceId: to.id, deliveryToken: to.token, envelope: bytes }, (r) => {
            side.answered++;
            if (!r.ok) side.refused++;
          });
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    await until(() => sides.every((side) => side.answered >= messages && side.delivered >= messages && side.devices.every((d) => d.link.outstanding === 0)), 'deliveries');
    const wallMs = performance.now() - start;
    const driver = process.cpuUsage(driver0);
    const out = sides.map((side, i) => {
      const cpu1 = cpuOf(side.server.node.pid);
      const userMs = cpu1.user - cpu0[i].user;
      const sysMs = cpu1.sys - cpu0[i].sys;
      return { serverUs: ((userMs + sysMs) * 1000) / side.delivered, userUs: (userMs * 1000) / side.delivered, sysUs: (sysMs * 1000) / side.delivered, delivered: side.delivered, refused: side.refused };
    });
    await Promise.all(sides.flatMap((side) => side.devices.map((d) => d.link.close())));
    return { sides: out, wallMs, driverUs: (driver.user + driver.system) / (total) };
  } finally {
    for (const server of servers) {
      await server.node.stop();
      server.cleanup();
    }
  }
}

const compare = arg('compare', undefined);
const bins = system === 'bare' ? [undefined] : compare === undefined ? [bin] : [bin, compare];
const flagsOf = (i) => (i === 0 ? relayFlags : compareFlags);
const labelOf = (b, i) => (b === undefined ? 'bare forwarder' : [b, ...flagsOf(i)].join(' '));
const results = bins.map(() => []);
for (let r = 0; r < runs; r++) {
  const res = await once(bins);
  res.sides.forEach((side, i) => {
    results[i].push(side.serverUs);
    console.log(
      `run ${r + 1} ${labelOf(bins[i], i)}: ${side.delivered} delivered (${side.refused} refused) at ${rate}/s; ` +
        `CPU per delivered message: server ${side.serverUs.toFixed(1)} µs (user ${side.userUs.toFixed(1)}, sys ${side.sysUs.toFixed(1)})`,
    );
  });
  if (bins.length === 2) console.log(`run ${r + 1}: ratio ${(res.sides[0].serverUs / res.sides[1].serverUs).toFixed(3)} (first / second), driver ${res.driverUs.toFixed(1)} µs/message, ${(res.wallMs / 1000).toFixed(1)} s`);
}
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} µs/message (min ${sorted[0].toFixed(1)}, max ${sorted.at(-1).toFixed(1)}, mean ${mean.toFixed(1)}, ${values.length} runs)`;
};
bins.forEach((b, i) => console.log(`${labelOf(b, i)}: ${summary(results[i])}`));
if (bins.length === 2) console.log(`ratio of medians (first / second): ${(summary(results[0]).match(/median ([\d.]+)/)[1] / summary(results[1]).match(/median ([\d.]+)/)[1]).toFixed(3)}`);
process.exit(0);
