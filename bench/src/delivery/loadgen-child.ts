/**
 * Load-generator process of the delivery benchmark (forked by run-delivery.ts with IPC).
 * Registers its share of devices with real keys and frames, then, per step, sends pre-built
 * 256-byte envelopes (layout in envelope.ts) at an open-loop rate from its devices to random
 * devices of the whole directory, acks every delivery at once, and reports counts and
 * latency samples.
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { MAX_OUTSTANDING_SENDS, MAX_QUEUED_BYTES, Samples, drainStep, freshStepCounts, now, startOpenLoop, stepCountsOf } from '../common/load-step.js';
import type { StepCounts } from '../common/load-step.js';
import type { ApiCodec, PigeonLink, ReplyHandler } from '../common/pigeon-link.js';
import { ENVELOPE_BYTES } from './envelope.js';
import type { DirectoryEntry, FromGenerator, StepReport, ToGenerator } from './ipc.js';
import { registerBenchDevice } from './register-device.js';
import type { PigeonProtocol } from '../protocol/pigeon-contract.js';
import { missingProtocolFunctions } from '../protocol/pigeon-contract.js';

const DELIVERY_TOKEN_BYTES = 16;
/** Devices registering at once (each costs key generation here and signature checks at the relay). */
const REGISTER_CONCURRENCY = 16;
/** Latency samples kept per step and kind (reservoir beyond that). */
const MAX_SAMPLES = 200_000;

interface Device {
  readonly id: Uint8Array;
  readonly connection: PigeonLink;
}
interface Target {
  readonly id: Uint8Array;
  readonly token: Uint8Array;
}

function reply(message: FromGenerator): void {
  process.send?.(message);
}

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

let generatorIndex = 0;
const devices: Device[] = [];
let targets: Target[] = [];
let currentStep = -1;
let stepStats: StepCounts & {
  ackOk: number;
  receipt: Samples;
  ack: Samples;
  sendOkLatency: Samples;
  windowEnd: number;
  lastDeliveryAt: number;
  seen: Set<string>;
} = freshStats();
let outstanding = 0;

function freshStats(): typeof stepStats {
  return {
    ...freshStepCounts(),
    ackOk: 0,
    receipt: new Samples(MAX_SAMPLES),
    ack: new Samples(MAX_SAMPLES),
    sendOkLatency: new Samples(MAX_SAMPLES),
    windowEnd: Number.POSITIVE_INFINITY,
    lastDeliveryAt: 0,
    seen: new Set(),
  };
}

async function loadModules(): Promise<{ protocol: PigeonProtocol; crypto: CryptoBackend; codec: ApiCodec }> {
  const protocol = (await import('@pigeon/protocol')) as unknown as PigeonProtocol;
  const missing = missingProtocolFunctions(protocol, [
    'createAccountKeys',
    'createDeviceKeys',
    'encodeDeviceCertificate',
    'deviceIdOf',
    'accountIdOf',
    'authMessage',
    'generateSignedPreKey',
    'generateKemPreKey',
  ]);
  if (missing.length > 0) throw new Error(`@pigeon/protocol does not export yet: ${missing.join(', ')}`);
  const api = (await import('@pigeon/api')) as unknown as Partial<ApiCodec>;
  if (typeof api.encodeClientFrame !== 'function' || typeof api.decodeRelayFrame !== 'function') {
    throw new Error('@pigeon/api does not export encodeClientFrame/decodeRelayFrame yet');
  }
  const { defaultBackend } = (await import('@pigeon/crypto')) as unknown as { defaultBackend(): CryptoBackend };
  return { protocol, crypto: defaultBackend(), codec: api as ApiCodec };
}

async function registerDevice(url: string, protocol: PigeonProtocol, crypto: CryptoBackend, codec: ApiCodec): Promise<DirectoryEntry & { device: Device }> {
  // Answered acks: this benchmark times the relay's reply to each ack.
  const { id, token, connection } = await registerBenchDevice(url, { protocol, crypto, codec }, DELIVERY_TOKEN_BYTES, { quietAcks: false });
  const device: Device = { id, connection };
  connection.onDeliver = onDeliver;
  return { deviceId: Buffer.from(id).toString('hex'), token: Buffer.from(token).toString('hex'), generator: generatorIndex, device };
}

/**
 * Every delivery, whatever the step (the link has already acked it: the mailbox must drain).
 * `t` was read before the ack went out; the returned handler times the ack's reply.
 */
function onDeliver(envelope: Uint8Array, messageId: Uint8Array, t: number): ReplyHandler | undefined {
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const valid = envelope.length === ENVELOPE_BYTES;
  const sentAt = valid ? view.getFloat64(0, true) : Number.NaN;
  const step = valid ? view.getUint32(8, true) : -1;
  if (step !== currentStep) return undefined;
  const stats = stepStats;
  const onAckReply: ReplyHandler = (r) => {
    if (stats !== stepStats) return;
    if (r.ok) {
      stats.ackOk++;
      stats.ack.add(now() - sentAt);
    }
  };
  const key = Buffer.from(messageId).toString('hex');
  if (stats.seen.has(key)) {
    stats.duplicates++;
    return onAckReply;
  }
  stats.seen.add(key);
  stats.lastDeliveryAt = t;
  stats.delivered++;
  if (t <= stats.windowEnd) stats.deliveredInWindow++;
  stats.receipt.add(t - sentAt);
  return onAckReply;
}

/** Pre-built envelopes; only the 16-byte header is rewritten per send. */
const ENVELOPE_POOL = Array.from({ length: 64 }, () => new Uint8Array(randomBytes(ENVELOPE_BYTES)));
let messageCounter = 0;
const messageIdPrefix = new Uint8Array(randomBytes(8));

function sendOne(step: number): void {
  const stats = stepStats;
  stats.offered++;
  if (outstanding >= MAX_OUTSTANDING_SENDS) {
    stats.skipped++;
    return;
  }
  const from = devices[Math.floor(Math.random() * devices.length)]!;
  if (from.connection.bufferedAmount > MAX_QUEUED_BYTES) {
    stats.skipped++;
    return;
  }
  let to = targets[Math.floor(Math.random() * targets.length)]!;
  if (Buffer.compare(to.id, from.id) === 0) to = targets[(targets.indexOf(to) + 1) % targets.length]!;
  const envelope = ENVELOPE_POOL[messageCounter % ENVELOPE_POOL.length]!;
  const messageId = new Uint8Array(16);
  messageId.set(messageIdPrefix);
  new DataView(messageId.buffer).setFloat64(8, ++messageCounter, true);
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const sentAt = now();
  view.setFloat64(0, sentAt, true);
  view.setUint32(8, step, true);
  view.setUint32(12, generatorIndex, true);
  outstanding++;
  stats.sent++;
  from.connection.request({ type: 'send', messageId, recipientDeviceId: to.id, deliveryToken: to.token, envelope }, (r) => {
    outstanding--;
    if (stats !== stepStats) return;
    if (r.ok) {
      stats.sendOk++;
      stats.sendOkLatency.add(now() - sentAt);
    } else {
      stats.sendErrors[r.code] = (stats.sendErrors[r.code] ?? 0) + 1;
    }
  });
}

async function runStep(step: number, ratePerSecond: number, seconds: number, drainMs: number): Promise<StepReport> {
  stepStats = freshStats();
  currentStep = step;
  const loop = startOpenLoop(ratePerSecond, seconds, () => sendOne(step));
  stepStats.windowEnd = loop.windowEnd;
  const cpu = await loop.cpu;
  await drainStep(drainMs, () => outstanding, () => stepStats.lastDeliveryAt);
  const s = stepStats;
  return {
    step,
    ...stepCountsOf(s),
    ackOk: s.ackOk,
    receiptMs: s.receipt.values,
    ackMs: s.ack.values,
    sendOkMs: s.sendOkLatency.values,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
  };
}

async function handle(message: ToGenerator): Promise<void> {
  switch (message.type) {
    case 'register': {
      generatorIndex = message.generator;
      const { protocol, crypto, codec } = await loadModules();
      const start = performance.now();
      const entries: DirectoryEntry[] = [];
      let next = 0;
      const worker = async () => {
        while (next < message.devices) {
          next++;
          const registered = await registerDevice(message.url, protocol, crypto, codec);
          devices.push(registered.device);
          entries.push({ deviceId: registered.deviceId, token: registered.token, generator: registered.generator });
        }
      };
      await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, message.devices) }, worker));
      reply({ type: 'registered', entries, ms: performance.now() - start });
      break;
    }
    case 'directory':
      targets = message.entries.map((e) => ({ id: fromHex(e.deviceId), token: fromHex(e.token) }));
      reply({ type: 'ready' });
      break;
    case 'step':
      reply({ type: 'step', report: await runStep(message.step, message.ratePerSecond, message.seconds, message.drainMs) });
      break;
    case 'stop':
      await Promise.all(devices.map((d) => d.connection.close()));
      reply({ type: 'stopped' });
      process.disconnect?.();
      process.exit(0);
  }
}

process.on('message', (message: ToGenerator) => {
  handle(message).catch((error: unknown) => {
    reply({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
  });
});
// The coordinator owns this process: exit when it goes away.
process.on('disconnect', () => process.exit(0));
