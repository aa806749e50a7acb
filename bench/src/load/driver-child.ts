/**
 * A load-driver process (forked by run-load.ts with IPC). It holds a share of the endpoints
 * (Pigeon devices with real keys, bare-forwarder sockets, or XMPP users) and runs what the
 * coordinator asks: set up online / offline / idle endpoints, open-loop send steps between
 * online endpoints, store-and-forward sends to offline endpoints, and the offline drain.
 * Latency is measured where the message arrives, from the send time inside the payload.
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import type { DeviceKeys, PigeonProtocol, AccountKeys } from '../protocol/pigeon-contract.js';
import type { DrainReport, Entry, FromDriver, ServerTarget, SetupRequest, StepReport, StoreReport, ToDriver } from './ipc.js';
import { MAX_OUTSTANDING_SENDS, MAX_QUEUED_BYTES, Samples, TICK_MS, drainStep, freshStepCounts, now, startOpenLoop, stepCountsOf } from '../common/load-step.js';
import { PigeonLink, type ApiCodec, type Reply } from '../common/pigeon-link.js';
import { PayloadPool, readHeader } from './payload.js';
import { XmppLink } from './xmpp-link.js';

const DELIVERY_TOKEN_BYTES = 16;
/** Client source addresses 127.0.0.SOURCE_FIRST .. +SOURCE_COUNT-1 (~28k ports each). */
const SOURCE_FIRST = 10;
const SOURCE_COUNT = 200;
/** Endpoints being set up at once in one driver (more for idle connections: registration waits on the store). */
const SETUP_CONCURRENCY = 48;
const IDLE_SETUP_CONCURRENCY = 128;
/** Attempts per endpoint when the relay answers INTERNAL (its store busy), with a growing pause. */
const SETUP_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 1000;
/** Devices per benchmark account for idle connections (the relay allows 32 per account). */
const IDLE_DEVICES_PER_ACCOUNT = 32;
/** Latency samples kept per step (reservoir beyond). */
const MAX_SAMPLES = 100_000;
const XMPP_PASSWORD = 'benchpw';

type Link = PigeonLink | XmppLink;
interface Endpoint {
  readonly address: string;
  readonly server: ServerTarget;
  readonly localAddress: string;
  readonly id: Uint8Array;
  readonly token: Uint8Array;
  readonly keys: DeviceKeys | undefined;
  link: Link | undefined;
}
interface Target {
  readonly address: string;
  readonly id: Uint8Array;
  readonly token: Uint8Array;
}

let driverIndex = 0;
const online: Endpoint[] = [];
const offline: Endpoint[] = [];
const idle: Endpoint[] = [];
let targets: Target[] = [];
let modules: { protocol: PigeonProtocol; crypto: CryptoBackend; codec: ApiCodec } | undefined;
const pool = new PayloadPool();
let seq = 0;
const messageIdPrefix = new Uint8Array(randomBytes(8));

function reply(message: FromDriver): void {
  process.send?.(message);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

async function load(): Promise<NonNullable<typeof modules>> {
  if (modules) return modules;
  const protocol = (await import('@pigeon/protocol')) as unknown as PigeonProtocol;
  const codec = (await import('@pigeon/api')) as unknown as ApiCodec;
  const { defaultBackend } = (await import('@pigeon/crypto')) as unknown as { defaultBackend(): CryptoBackend };
  modules = { protocol, crypto: defaultBackend(), codec };
  return modules;
}

// ---------------------------------------------------------------- delivery accounting

let currentStep = -1;
let stats = freshStats();
function freshStats() {
  return {
    ...freshStepCounts(),
    receipt: new Samples(MAX_SAMPLES),
    windowEnd: Number.POSITIVE_INFINITY,
    lastDeliveryAt: 0,
    seen: new Set<number>(),
  };
}

function delivered(payload: Uint8Array): void {
  const t = now();
  const h = readHeader(payload);
  if (h === undefined || h.step !== currentStep) return;
  const s = stats;
  // Sequence numbers are unique per driver; fold the driver in for the duplicate check.
  const key = h.seq * 64 + h.driver;
  if (s.seen.has(key)) {
    s.duplicates++;
    return;
  }
  s.seen.add(key);
  s.delivered++;
  s.lastDeliveryAt = t;
  if (t <= s.windowEnd) s.deliveredInWindow++;
  s.receipt.add(t - h.sentAt);
}

function attach(link: Link): void {
  if (link instanceof PigeonLink) link.onDeliver = delivered;
  else link.onDeliver = (body) => delivered(new Uint8Array(Buffer.from(body, 'base64')));
}

// ---------------------------------------------------------------- setup

function placement(req: SetupRequest, i: number): { server: ServerTarget; localAddress: string; global: number } {
  const global = req.firstIndex + i;
  return { server: req.servers[global % req.servers.length]!, localAddress: `127.0.0.${SOURCE_FIRST + (global % SOURCE_COUNT)}`, global };
}

async function newPigeonIdentity(account: AccountKeys | undefined): Promise<{ keys: DeviceKeys; id: Uint8Array; account: AccountKeys }> {
  const { protocol, crypto } = await load();
  const acc = account ?? (await protocol.createAccountKeys(crypto));
  const keys = await protocol.createDeviceKeys(crypto, acc, Date.now());
  return { keys, id: await protocol.deviceIdOf(crypto, keys.certificate.deviceSigningKey), account: acc };
}

async function pigeonOpen(ep: Endpoint, mode: 'register' | 'auth', withToken: boolean): Promise<PigeonLink> {
  const { codec } = await load();
  if (ep.server.kind === 'xmpp') throw new Error('not a WebSocket server');
  const link = await PigeonLink.open(ep.server.url, ep.localAddress, codec);
  // Before auth: deliveries can arrive in the same read as the auth reply.
  attach(link);
  try {
    return await pigeonHandshake(link, ep, mode, withToken);
  } catch (error) {
    await link.close();
    throw error;
  }
}

async function pigeonHandshake(link: PigeonLink, ep: Endpoint, mode: 'register' | 'auth', withToken: boolean): Promise<PigeonLink> {
  const { protocol, crypto } = await load();
  if (ep.server.kind === 'bare') {
    // The bare forwarder checks nothing: it binds the claimed device id to the socket.
    await link.requestOk({ type: 'auth', deviceId: ep.id, signature: new Uint8Array(64) }, 'auth');
    return link;
  }
  const keys = ep.keys!;
  const nonce = await link.challenge();
  const signature = await crypto.ed25519Sign(keys.signing.secretKey, protocol.authMessage(nonce));
  if (mode === 'register') {
    await link.requestOk({ type: 'register', certificate: protocol.encodeDeviceCertificate(keys.certificate), signature }, 'register');
    if (withToken) await link.requestOk({ type: 'set_delivery_tokens', add: [ep.token], remove: [] }, 'set_delivery_tokens');
  } else {
    await link.requestOk({ type: 'auth', deviceId: ep.id, signature }, 'auth');
  }
  return link;
}

async function xmppOpen(ep: Endpoint, mode: 'register' | 'login'): Promise<XmppLink> {
  if (ep.server.kind !== 'xmpp') throw new Error('not an XMPP server');
  const link = await XmppLink.open(ep.server.host, ep.server.port, ep.localAddress);
  attach(link);
  try {
    if (mode === 'register') await link.register(ep.address, XMPP_PASSWORD);
    else await link.login(ep.address, XMPP_PASSWORD, 'bench');
  } catch (error) {
    await link.close();
    throw error;
  }
  return link;
}

/** Creates, registers and (unless offline) connects `count` endpoints. */
async function setup(req: SetupRequest, kind: 'online' | 'offline' | 'idle'): Promise<FromDriver> {
  const start = performance.now();
  const list = kind === 'online' ? online : kind === 'offline' ? offline : idle;
  const entries: Entry[] = [];
  let failed = 0;
  let retried = 0;
  let firstError = '';
  let next = 0;
  let account: { keys: AccountKeys; used: number } | undefined;
  const one = async (i: number): Promise<void> => {
    const { server, localAddress, global } = placement(req, i);
    let ep: Endpoint;
    if (server.kind === 'pigeon') {
      let acc: AccountKeys | undefined;
      if (kind === 'idle') {
        if (account === undefined || account.used >= IDLE_DEVICES_PER_ACCOUNT) {
          const { protocol, crypto } = await load();
          account = { keys: await protocol.createAccountKeys(crypto), used: 0 };
        }
        account.used++;
        acc = account.keys;
      }
      const identity = await newPigeonIdentity(acc);
      ep = { address: hex(identity.id), server, localAddress, id: identity.id, token: new Uint8Array(randomBytes(DELIVERY_TOKEN_BYTES)), keys: identity.keys, link: undefined };
    } else if (server.kind === 'bare') {
      const id = new Uint8Array(randomBytes(16));
      ep = { address: hex(id), server, localAddress, id, token: new Uint8Array(randomBytes(DELIVERY_TOKEN_BYTES)), keys: undefined, link: undefined };
    } else {
      ep = { address: `${req.prefix}${global}`, server, localAddress, id: new Uint8Array(0), token: new Uint8Array(0), keys: undefined, link: undefined };
    }
    if (server.kind === 'xmpp') {
      const reg = await xmppOpen(ep, 'register');
      await reg.close();
      if (kind !== 'offline') ep.link = await xmppOpen(ep, 'login');
    } else {
      const link = await pigeonOpen(ep, 'register', kind !== 'idle');
      if (kind === 'offline') await link.close();
      else ep.link = link;
    }
    list.push(ep);
    entries.push({ address: ep.address, token: hex(ep.token) });
  };
  const worker = async (): Promise<void> => {
    while (next < req.count) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          await one(i);
          break;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          // INTERNAL = the relay's store was busy and did nothing: a real client retries later.
          if (message.includes('INTERNAL') && attempt < SETUP_ATTEMPTS) {
            retried++;
            await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS * attempt));
            continue;
          }
          failed++;
          if (firstError === '') firstError = message;
          break;
        }
      }
    }
  };
  const concurrency = kind === 'idle' ? IDLE_SETUP_CONCURRENCY : SETUP_CONCURRENCY;
  await Promise.all(Array.from({ length: Math.min(concurrency, req.count) }, worker));
  const connected = list.filter((e) => e.link !== undefined).length;
  return { type: 'setup', entries, connected, failed, retried, firstError, ms: performance.now() - start };
}

// ---------------------------------------------------------------- sending

function sendOne(from: Endpoint, to: Target, step: number, onReply: (r: Reply) => void): boolean {
  const link = from.link;
  if (link === undefined || !link.open) return false;
  const n = ++seq;
  const { bytes } = pool.stamp(step, driverIndex, n);
  if (link instanceof PigeonLink) {
    if (link.bufferedAmount > MAX_QUEUED_BYTES) return false;
    const messageId = new Uint8Array(16);
    messageId.set(messageIdPrefix);
    new DataView(messageId.buffer).setFloat64(8, n, true);
    link.request({ type: 'send', messageId, recipientDeviceId: to.id, deliveryToken: to.token, envelope: bytes }, onReply);
  } else {
    if (link.writableLength > MAX_QUEUED_BYTES) return false;
    link.sendChat(to.address, `m${driverIndex}-${n}`, Buffer.from(bytes).toString('base64'));
    onReply({ ok: true });
  }
  return true;
}

let outstanding = 0;

async function runStep(step: number, rate: number, seconds: number, drainMs: number): Promise<StepReport> {
  stats = freshStats();
  currentStep = step;
  const s = stats;
  const senders = online.filter((e) => e.link !== undefined);
  const loop = startOpenLoop(rate, seconds, () => {
    s.offered++;
    if (outstanding >= MAX_OUTSTANDING_SENDS || senders.length === 0) {
      s.skipped++;
      return;
    }
    const from = senders[Math.floor(Math.random() * senders.length)]!;
    let to = targets[Math.floor(Math.random() * targets.length)]!;
    if (to.address === from.address) to = targets[(targets.indexOf(to) + 1) % targets.length]!;
    outstanding++;
    const ok = sendOne(from, to, step, (r) => {
      outstanding--;
      if (r.ok) s.sendOk++;
      else s.sendErrors[r.code] = (s.sendErrors[r.code] ?? 0) + 1;
    });
    if (ok) s.sent++;
    else {
      outstanding--;
      s.skipped++;
    }
  });
  s.windowEnd = loop.windowEnd;
  const c = await loop.cpu;
  const cpu = (c.user + c.system) / 1000;
  await drainStep(drainMs, () => outstanding, () => s.lastDeliveryAt);
  return {
    ...stepCountsOf(s),
    receiptMs: s.receipt.values,
    cpuMs: cpu,
  };
}

/** Open-loop sends to offline endpoints, then waits until every send is acknowledged/handled. */
async function runStore(step: number, to: readonly Target[], count: number, rate: number, timeoutMs: number): Promise<StoreReport> {
  currentStep = step;
  const senders = online.filter((e) => e.link !== undefined);
  let sent = 0;
  let sendOk = 0;
  let answered = 0;
  const sendErrors: Record<string, number> = {};
  const start = performance.now();
  let lastAck = start;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const from = senders[sent % senders.length]!;
        const target = to[(sent * 7919 + driverIndex) % to.length]!;
        const ok = sendOne(from, target, step, (r) => {
          answered++;
          lastAck = performance.now();
          if (r.ok) sendOk++;
          else sendErrors[r.code] = (sendErrors[r.code] ?? 0) + 1;
        });
        if (!ok) break; // socket backed up: try again next tick (the schedule catches up)
        sent++;
      }
      if (sent >= count || performance.now() - start > timeoutMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  // Pigeon: every send is answered after commit. XMPP: ask each sender's stream for <a h/>.
  const deadline = start + timeoutMs;
  while (answered < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  let flushed = answered >= sent;
  const xmppSenders = senders.map((e) => e.link).filter((l): l is XmppLink => l instanceof XmppLink);
  if (xmppSenders.length > 0) {
    const results = await Promise.all(xmppSenders.map((l) => l.flush(Math.max(1000, deadline - performance.now()))));
    flushed = results.every(Boolean);
    lastAck = performance.now();
  }
  return { sent, sendOk, sendErrors, flushed, ms: lastAck - start };
}

/** Connects the offline endpoints and counts deliveries of `step` until all expected arrived or it goes quiet. */
async function runDrain(step: number, expected: number, timeoutMs: number, quietMs: number): Promise<DrainReport> {
  stats = freshStats();
  currentStep = step;
  const s = stats;
  const connectStartAt = now();
  let failed = 0;
  let firstError = '';
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < offline.length) {
      const ep = offline[next++]!;
      try {
        ep.link = ep.server.kind === 'xmpp' ? await xmppOpen(ep, 'login') : await pigeonOpen(ep, 'auth', false);
      } catch (error) {
        failed++;
        if (firstError === '') firstError = error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, offline.length) }, worker));
  const connectedAt = now();
  const deadline = connectStartAt + timeoutMs;
  while (s.delivered < expected && now() < deadline && now() - Math.max(s.lastDeliveryAt, connectedAt) < quietMs) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return { delivered: s.delivered, duplicates: s.duplicates, connectStartAt, connectedAt, lastDeliveryAt: s.lastDeliveryAt, failed, firstError, expected };
}

async function closeAll(): Promise<void> {
  const all = [...online, ...offline, ...idle];
  for (let i = 0; i < all.length; i += 500) {
    await Promise.all(all.slice(i, i + 500).map((e) => e.link?.close()));
  }
  online.length = 0;
  offline.length = 0;
  idle.length = 0;
}

async function handle(message: ToDriver): Promise<void> {
  switch (message.type) {
    case 'online':
    case 'offline':
    case 'idle':
      reply(await setup(message, message.type));
      break;
    case 'directory':
      targets = message.entries.map((e) => ({ address: e.address, id: fromHex(e.address.length === 32 ? e.address : ''), token: fromHex(e.token) }));
      reply({ type: 'ready' });
      break;
    case 'step':
      reply({ type: 'step', report: await runStep(message.step, message.ratePerSecond, message.seconds, message.drainMs) });
      break;
    case 'store': {
      const to = message.targets.map((e) => ({ address: e.address, id: fromHex(e.address.length === 32 ? e.address : ''), token: fromHex(e.token) }));
      reply({ type: 'store', report: await runStore(message.step, to, message.count, message.ratePerSecond, message.timeoutMs) });
      break;
    }
    case 'drain':
      reply({ type: 'drain', report: await runDrain(message.step, message.expected, message.timeoutMs, message.quietMs) });
      break;
    case 'close':
      await closeAll();
      reply({ type: 'closed' });
      break;
    case 'stop':
      await closeAll();
      process.exit(0);
  }
}

driverIndex = Number(process.env['PIGEON_BENCH_DRIVER'] ?? '0');
process.on('message', (message: ToDriver) => {
  handle(message).catch((error: unknown) => reply({ type: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
process.on('disconnect', () => process.exit(0));
