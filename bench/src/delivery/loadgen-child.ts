/**
 * Load-generator process of the delivery benchmark (forked by run-delivery.ts with IPC).
 * Registers its share of devices with real keys and frames, then, per step, sends pre-built
 * 256-byte envelopes (layout in envelope.ts) at an open-loop rate from its devices to random
 * devices of the whole directory, acks every delivery at once, and reports counts and
 * latency samples.
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import type { ApiCodec } from './device-connection.js';
import type { DeviceConnection } from './device-connection.js';
import { ENVELOPE_BYTES } from './envelope.js';
import type { DirectoryEntry, FromGenerator, StepReport, ToGenerator } from './ipc.js';
import { registerBenchDevice } from './register-device.js';
import type { PigeonProtocol } from '../protocol/pigeon-contract.js';
import { missingProtocolFunctions } from '../protocol/pigeon-contract.js';

const DELIVERY_TOKEN_BYTES = 16;
/** Devices registering at once (each costs key generation here and signature checks at the relay). */
const REGISTER_CONCURRENCY = 16;
/** Open-loop scheduler tick. */
const TICK_MS = 2;
/** Unacknowledged sends above this are skipped and counted: the client-side saturation signal. */
const MAX_OUTSTANDING_SENDS = 20_000;
/** Above this many bytes queued on one socket, that device's sends are skipped and counted. */
const MAX_BUFFERED_BYTES = 4 << 20;
/** Drain ends after this long without a delivery of the step. */
const QUIET_MS = 300;
/** Latency samples kept per step and kind (reservoir beyond that). */
const MAX_SAMPLES = 200_000;

interface Device {
  readonly id: Uint8Array;
  readonly connection: DeviceConnection;
}
interface Target {
  readonly id: Uint8Array;
  readonly token: Uint8Array;
}

function reply(message: FromGenerator): void {
  process.send?.(message);
}

const now = (): number => performance.timeOrigin + performance.now();

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

class Samples {
  readonly values: number[] = [];
  private seen = 0;
  add(v: number): void {
    this.seen++;
    if (this.values.length < MAX_SAMPLES) this.values.push(v);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < MAX_SAMPLES) this.values[j] = v;
    }
  }
}

let generatorIndex = 0;
const devices: Device[] = [];
let targets: Target[] = [];
let currentStep = -1;
let stepStats: {
  offered: number;
  sent: number;
  skipped: number;
  sendOk: number;
  sendErrors: Record<string, number>;
  deliveredInWindow: number;
  delivered: number;
  duplicates: number;
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
    offered: 0,
    sent: 0,
    skipped: 0,
    sendOk: 0,
    sendErrors: {},
    deliveredInWindow: 0,
    delivered: 0,
    duplicates: 0,
    ackOk: 0,
    receipt: new Samples(),
    ack: new Samples(),
    sendOkLatency: new Samples(),
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
  const { id, token, connection } = await registerBenchDevice(url, { protocol, crypto, codec }, DELIVERY_TOKEN_BYTES);
  const device: Device = { id, connection };
  connection.onDeliver = (messageId, envelope) => onDeliver(device, messageId, envelope);
  return { deviceId: Buffer.from(id).toString('hex'), token: Buffer.from(token).toString('hex'), generator: generatorIndex, device };
}

function onDeliver(device: Device, messageId: Uint8Array, envelope: Uint8Array): void {
  const t = now();
  // Ack at once, whatever the step: the mailbox must drain.
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const valid = envelope.length === ENVELOPE_BYTES;
  const sentAt = valid ? view.getFloat64(0, true) : Number.NaN;
  const step = valid ? view.getUint32(8, true) : -1;
  const mine = step === currentStep;
  const stats = stepStats;
  device.connection.send({ type: 'ack', messageIds: [messageId] }, (r) => {
    if (!mine || stats !== stepStats) return;
    if (r.ok) {
      stats.ackOk++;
      stats.ack.add(now() - sentAt);
    }
  });
  if (!mine) return;
  const key = Buffer.from(messageId).toString('hex');
  if (stats.seen.has(key)) {
    stats.duplicates++;
    return;
  }
  stats.seen.add(key);
  stats.lastDeliveryAt = t;
  stats.delivered++;
  if (t <= stats.windowEnd) stats.deliveredInWindow++;
  stats.receipt.add(t - sentAt);
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
  if (from.connection.bufferedAmount > MAX_BUFFERED_BYTES) {
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
  from.connection.send({ type: 'send', messageId, recipientDeviceId: to.id, deliveryToken: to.token, envelope }, (r) => {
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
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  stepStats.windowEnd = performance.timeOrigin + end;
  let scheduled = 0;
  let windowCpu = { user: 0, system: 0 };
  // Open loop: the schedule decides how many messages are due, whatever the relay does.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = Math.min(performance.now(), end);
      const due = Math.floor(((t - start) / 1000) * ratePerSecond);
      while (scheduled < due) {
        scheduled++;
        sendOne(step);
      }
      if (t >= end) {
        clearInterval(timer);
        windowCpu = process.cpuUsage(cpuStart);
        resolve();
      }
    }, TICK_MS);
  });
  // Drain: until this generator's sends are all answered and no delivery of this step came
  // for QUIET_MS (the other generator's messages may still be arriving), or the time is up.
  const drainEnd = performance.now() + drainMs;
  while (performance.now() < drainEnd && (outstanding > 0 || now() - stepStats.lastDeliveryAt < QUIET_MS)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const cpu = windowCpu;
  const s = stepStats;
  return {
    step,
    offered: s.offered,
    sent: s.sent,
    skipped: s.skipped,
    sendOk: s.sendOk,
    sendErrors: s.sendErrors,
    deliveredInWindow: s.deliveredInWindow,
    delivered: s.delivered,
    duplicates: s.duplicates,
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
