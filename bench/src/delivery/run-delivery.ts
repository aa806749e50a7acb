/**
 * Delivery benchmark: the real relay (SQLite durable store, temp dir) in a child process and
 * two load-generator processes holding the devices' WebSockets. For each device count the
 * offered rate is ramped (doubling) until the relay saturates; each step reports delivered
 * messages per second and send -> receipt / send -> ack-confirmed latencies.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMs, formatRate, percentileSorted, table } from '../common/stats.js';
import { loadLine, writeResults } from '../common/results.js';
import type { DirectoryEntry, FromGenerator, FromRelay, StepReport, ToGenerator, ToRelay } from './ipc.js';
import { ENVELOPE_BYTES } from './envelope.js';

export interface DeliveryOptions {
  readonly deviceCounts: readonly number[];
  /** Clocked seconds of each ramp step. */
  readonly stepSeconds: number;
  /** First offered rate (messages/s, all generators together); doubled each step. */
  readonly startRate: number;
  readonly maxSteps: number;
  /**
   * Longest wait after a step for its deliveries to arrive. The drain ends as soon as the step's
   * sends are all answered and deliveries stop; a long cap keeps a saturated step's backlog from
   * leaking into the next step.
   */
  readonly drainMs: number;
  /** SQLite durability of the relay: 'full' (its default, fsync per group commit) or 'normal'. */
  readonly durability: 'full' | 'normal';
  /** When set, the relay process runs with --cpu-prof and writes its profile here. */
  readonly relayProfileDir?: string;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = { deviceCounts: [100, 1000], stepSeconds: 3, startRate: 500, maxSteps: 7, drainMs: 30_000, durability: 'full' };

const GENERATORS = 2;
/** A step is saturated when less than this share of the offered rate is delivered in its window. */
const SATURATION_DELIVERED_SHARE = 0.9;
/** ...or when p99 send -> receipt latency exceeds this. */
const SATURATION_P99_MS = 1000;
const START_TIMEOUT_MS = 30_000;
const REGISTER_TIMEOUT_MS = 600_000;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

type Child<In, Out> = { process: ChildProcess; send(message: In): void; next(type: string, timeoutMs: number): Promise<Out> };

function spawnChild<In, Out extends { type: string }>(script: string, label: string, execArgv: string[] = []): Child<In, Out> {
  const child = fork(here(script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const inbox: Out[] = [];
  const waiters: ((m: Out) => void)[] = [];
  child.on('message', (m: Out) => {
    const waiter = waiters.shift();
    if (waiter) waiter(m);
    else inbox.push(m);
  });
  return {
    process: child,
    send: (message) => child.send(message as object),
    next: (type, timeoutMs) =>
      new Promise<Out>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${label}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
        const onExit = (code: number | null) => reject(new Error(`${label} exited (${code}) while waiting for "${type}"`));
        child.once('exit', onExit);
        const accept = (m: Out) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          if (m.type === 'failed') reject(new Error(`${label}: ${(m as unknown as { reason: string }).reason}`));
          else if (m.type !== type) reject(new Error(`${label}: expected "${type}", got "${m.type}"`));
          else resolve(m);
        };
        const queued = inbox.shift();
        if (queued) accept(queued);
        else waiters.push(accept);
      }),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      child.send({ type: 'stop' });
    } catch {
      child.kill('SIGTERM');
    }
  });
}

export interface StepResult {
  readonly devices: number;
  readonly offeredRate: number;
  readonly sentRate: number;
  readonly deliveredRate: number;
  readonly delivered: number;
  readonly sent: number;
  readonly skipped: number;
  readonly sendErrors: Record<string, number>;
  readonly undelivered: number;
  readonly duplicates: number;
  readonly receipt: { p50: number; p99: number; max: number };
  readonly ack: { p50: number; p99: number };
  readonly stored: { p50: number; p99: number };
  /** CPU time over the sending window / window wall time (100% = one core). */
  readonly relayCpuPercent: number;
  readonly generatorsCpuPercent: number;
  readonly saturated: boolean;
}

function sorted(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function summarize(devices: number, offeredRate: number, seconds: number, reports: readonly StepReport[], relayCpuMs: number, windowMs: number): StepResult {
  const sum = (f: (r: StepReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const receipt = sorted(reports.flatMap((r) => r.receiptMs));
  const ack = sorted(reports.flatMap((r) => r.ackMs));
  const stored = sorted(reports.flatMap((r) => r.sendOkMs));
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.sendErrors)) errors[code] = (errors[code] ?? 0) + n;
  const sent = sum((r) => r.sent);
  const delivered = sum((r) => r.delivered);
  const deliveredRate = sum((r) => r.deliveredInWindow) / seconds;
  const receiptStats = { p50: percentileSorted(receipt, 50), p99: percentileSorted(receipt, 99), max: receipt.length ? receipt[receipt.length - 1]! : Number.NaN };
  const skipped = sum((r) => r.skipped);
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    devices,
    offeredRate,
    sentRate: sent / seconds,
    deliveredRate,
    delivered,
    sent,
    skipped,
    sendErrors: errors,
    undelivered: sent - errorCount - delivered,
    duplicates: sum((r) => r.duplicates),
    receipt: receiptStats,
    ack: { p50: percentileSorted(ack, 50), p99: percentileSorted(ack, 99) },
    stored: { p50: percentileSorted(stored, 50), p99: percentileSorted(stored, 99) },
    relayCpuPercent: (100 * relayCpuMs) / windowMs,
    generatorsCpuPercent: (100 * sum((r) => r.cpuUserMs + r.cpuSystemMs)) / (seconds * 1000),
    saturated:
      deliveredRate < SATURATION_DELIVERED_SHARE * offeredRate ||
      skipped > 0 ||
      errorCount > 0.01 * sent ||
      !(receiptStats.p99 <= SATURATION_P99_MS),
  };
}

async function relayCpu(relay: Child<ToRelay, FromRelay>): Promise<number> {
  relay.send({ type: 'stats' });
  const s = (await relay.next('stats', 10_000)) as Extract<FromRelay, { type: 'stats' }>;
  return s.cpuUserMs + s.cpuSystemMs;
}

async function runForDevices(devices: number, options: DeliveryOptions, log: (line: string) => void): Promise<{ steps: StepResult[]; registerMs: number; relayRssBytes: number; notes: readonly string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pigeon-bench-relay-'));
  const profile = options.relayProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.relayProfileDir}`];
  const relay = spawnChild<ToRelay, FromRelay>('./relay-child.js', 'relay process', profile);
  const generators: Child<ToGenerator, FromGenerator>[] = [];
  try {
    relay.send({ type: 'start', dataDir, durability: options.durability });
    const listening = (await relay.next('listening', START_TIMEOUT_MS)) as Extract<FromRelay, { type: 'listening' }>;
    for (let g = 0; g < GENERATORS; g++) generators.push(spawnChild<ToGenerator, FromGenerator>('./loadgen-child.js', `load generator ${g}`));
    const registerStart = performance.now();
    generators.forEach((gen, g) => gen.send({ type: 'register', url: listening.url, generator: g, devices: Math.floor(devices / GENERATORS) + (g < devices % GENERATORS ? 1 : 0) }));
    const registered = await Promise.all(generators.map((gen) => gen.next('registered', REGISTER_TIMEOUT_MS)));
    const registerMs = performance.now() - registerStart;
    const entries: DirectoryEntry[] = registered.flatMap((m) => (m as Extract<FromGenerator, { type: 'registered' }>).entries);
    relay.send({ type: 'stats' });
    const idle = (await relay.next('stats', 10_000)) as Extract<FromRelay, { type: 'stats' }>;
    log(
      `   ${devices} devices registered and connected in ${(registerMs / 1000).toFixed(1)} s (keys, register, prekeys, delivery token); ` +
        `relay RSS ${(idle.rssBytes / 1048576).toFixed(0)} MB`,
    );
    for (const gen of generators) gen.send({ type: 'directory', entries });
    await Promise.all(generators.map((gen) => gen.next('ready', 30_000)));

    const steps: StepResult[] = [];
    const runStep = async (step: number, rate: number, record = true): Promise<StepResult> => {
      const cpuBefore = await relayCpu(relay);
      const wallStart = performance.now();
      generators.forEach((gen) => gen.send({ type: 'step', step, ratePerSecond: rate / GENERATORS, seconds: options.stepSeconds, drainMs: options.drainMs }));
      const replies = Promise.all(generators.map((gen) => gen.next('step', options.stepSeconds * 1000 + options.drainMs + 60_000)));
      // Relay CPU over the sending window only (the drain that follows would dilute it).
      await new Promise((r) => setTimeout(r, options.stepSeconds * 1000));
      const relayCpuMs = (await relayCpu(relay)) - cpuBefore;
      const windowMs = performance.now() - wallStart;
      const reports = (await replies).map((m) => (m as Extract<FromGenerator, { type: 'step' }>).report);
      const result = summarize(devices, rate, options.stepSeconds, reports, relayCpuMs, windowMs);
      if (!record) return result;
      steps.push(result);
      log(
        `   offered ${formatRate(rate)}/s -> delivered ${formatRate(result.deliveredRate)}/s, p50/p99 receipt ${formatMs(result.receipt.p50)}/${formatMs(result.receipt.p99)} ms` +
          (result.saturated ? '  (saturated)' : ''),
      );
      return result;
    };
    // Warm-up at the start rate, not recorded: JIT, SQLite page cache and socket buffers settle.
    await runStep(1000, options.startRate, false);
    let rate = options.startRate;
    let lastGood: number | undefined;
    for (let step = 0; step < options.maxSteps; step++, rate *= 2) {
      const result = await runStep(step, rate);
      if (!result.saturated) {
        lastGood = rate;
        continue;
      }
      // One refinement between the last unsaturated rate and this one (geometric middle).
      if (lastGood !== undefined) await runStep(step + 1, Math.round(Math.sqrt(lastGood * rate)));
      break;
    }
    return { steps, registerMs, relayRssBytes: idle.rssBytes, notes: listening.notes };
  } finally {
    await Promise.all([...generators.map((g) => stopChild(g.process)), stopChild(relay.process)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runDeliveryBenchmark(options: DeliveryOptions = DEFAULT_DELIVERY_OPTIONS): Promise<Record<string, unknown>> {
  console.log(
    `\n== Delivery: relay (SQLite, durability ${options.durability}) in a child process, ${GENERATORS} load-generator processes, ${ENVELOPE_BYTES}-byte envelopes`,
  );
  console.log(`   open-loop ramp from ${options.startRate}/s doubling, ${options.stepSeconds}s per step, random recipient, ack on every deliver`);
  const loadBefore = loadLine('before');
  console.log(loadBefore.line);
  const all: StepResult[] = [];
  const runs: Record<string, unknown>[] = [];
  const failures: Record<string, string> = {};
  for (const devices of options.deviceCounts) {
    console.log(`\n-- ${devices} connected devices`);
    try {
      const run = await runForDevices(devices, options, (line) => console.log(line));
      all.push(...run.steps);
      runs.push({ devices, registerMs: run.registerMs, relayRssBytesConnected: run.relayRssBytes, notes: run.notes, steps: run.steps });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failures[String(devices)] = reason;
      console.log(`   NOT MEASURED: ${reason}`);
    }
  }
  if (all.length > 0) {
    const rows = [
      ['devices', 'offered/s', 'delivered/s', 'recv p50 ms', 'recv p99 ms', 'ack p50 ms', 'ack p99 ms', 'stored p50 ms', 'errors', 'relay CPU', 'gens CPU', ''],
      ...[...all].sort((a, b) => a.devices - b.devices || a.offeredRate - b.offeredRate).map((s) => [
        String(s.devices),
        formatRate(s.offeredRate),
        formatRate(s.deliveredRate),
        formatMs(s.receipt.p50),
        formatMs(s.receipt.p99),
        formatMs(s.ack.p50),
        formatMs(s.ack.p99),
        formatMs(s.stored.p50),
        String(Object.values(s.sendErrors).reduce((a, b) => a + b, 0) + s.skipped),
        `${s.relayCpuPercent.toFixed(0)}%`,
        `${s.generatorsCpuPercent.toFixed(0)}%`,
        s.saturated ? 'saturated' : '',
      ]),
    ];
    console.log('\n' + table(rows));
    for (const devices of options.deviceCounts) {
      const best = all.filter((s) => s.devices === devices).reduce<StepResult | undefined>((b, s) => (b === undefined || s.deliveredRate > b.deliveredRate ? s : b), undefined);
      if (best) console.log(`   peak with ${devices} devices: ${formatRate(best.deliveredRate)} delivered/s (offered ${formatRate(best.offeredRate)}/s)`);
    }
  }
  const loadAfter = loadLine('after');
  console.log(loadAfter.line);
  const result = { options, load1: { before: loadBefore.load1, after: loadAfter.load1 }, runs, failures };
  const file = writeResults('delivery', result);
  console.log(`   results: ${file}`);
  return result;
}
