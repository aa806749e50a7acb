/**
 * `npm run bench:relay`: the relay load benchmark. Side by side in one run, each system started,
 * measured and stopped in turn:
 *   (a) one Pigeon relay node on SQLite      (b) Pigeon relay nodes on PostgreSQL + Redis
 *   (c) ejabberd 23.01 (XMPP)                (d) a bare ws forwarder (the ceiling)
 * Workloads per system: idle authenticated connections (memory per connection, and the cluster's
 * ceiling), 1:1 messages between online endpoints on an open-loop schedule ramped to saturation
 * (then a latency step at half of it), store-and-forward to offline endpoints and their drain.
 *
 * node bench/dist/src/load/run-load.js [--quick] [--systems=a,b,c,d] [--idle=N] [--cluster-idle=N]
 *   [--cluster-idle-nodes=N] [--cluster-nodes=N] [--devices=N] [--step-seconds=S] [--idle-only]
 * Environment: PIGEON_BENCH_RELAY_BIN=<other build's bin.js> (A/B of two relay builds, run back to
 * back), PIGEON_BENCH_RELAY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" (profile the relay nodes),
 * PIGEON_BENCH_RELAY_FLAGS="--store-thread" (extra relay flags for the SQLite node, system a).
 */
import { percentileSorted, formatMs, formatRate, table } from '../common/stats.js';
import { loadLine, writeResults } from '../common/results.js';
import { DriverPool } from './driver-pool.js';
import type { Entry, ServerTarget, StepReport } from './ipc.js';
import { FULL, QUICK, type LoadOptions } from './options.js';
import { totalCpuMs, totalRss, rssBytes } from './proc-stats.js';
import { redisPid, startBareForwarder, startEjabberdSystem, startPigeonCluster, startPigeonSqlite, type RunningSystem } from './systems.js';

const NAMES: Record<string, string> = {
  a: '(a) Pigeon, 1 node, SQLite',
  b: '(b) Pigeon cluster, PostgreSQL + Redis',
  c: '(c) ejabberd 23.01',
  d: '(d) bare ws forwarder',
};
/** A step is saturated below this share of the offered rate delivered in its window. */
const MIN_DELIVERED_SHARE = 0.9;
/** ... or when its receipt p99 exceeds this. */
const MAX_P99_MS = 1000;
/** ... or when more than this share of sends were skipped (client backed up) or failed. */
const MAX_SKIPPED_SHARE = 0.01;
/** Pause after idle connections are up, before RSS is read (lets allocations settle). */
const SETTLE_MS = 3000;
/** Lowest offered rate the ramp steps down to. */
const MIN_RATE = 50;

const log = (line: string): void => console.log(line);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;
const kib = (b: number): string => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KiB` : 'n/a');

interface StepResult {
  readonly rate: number;
  readonly offered: number;
  readonly deliveredPerSecond: number;
  readonly deliveredShare: number;
  readonly p50: number;
  readonly p99: number;
  readonly skipped: number;
  readonly errors: number;
  readonly serverCpu: number;
  readonly driverCpu: number;
  /** CPU of PostgreSQL + Redis during the step (b only; shared engines, other work on the machine included). */
  readonly auxCpu?: number;
  readonly saturated: boolean;
}

interface IdleResult {
  readonly requested: number;
  readonly connected: number;
  readonly failed: number;
  /** Setups retried after INTERNAL (the relay's store busy). */
  readonly retried: number;
  readonly firstError: string;
  readonly setupSeconds: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly bytesPerConnection: number;
  readonly redisBytesPerConnection?: number;
  readonly servers: number;
}

interface SystemResult {
  readonly label: string;
  readonly name: string;
  notes: string[];
  idle?: IdleResult;
  steps: StepResult[];
  saturationPerSecond?: number;
  half?: StepResult;
  store?: { readonly sent: number; readonly stored: number; readonly errors: number; readonly storePerSecond: number; readonly delivered: number; readonly drainPerSecond: number; readonly drainSeconds: number; readonly connectSeconds: number; readonly duplicates: number };
  error?: string;
}

function parseFlags(argv: readonly string[]): LoadOptions {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) flags.set(m[1]!, m[2] ?? 'true');
  }
  const base = flags.has('quick') ? QUICK : FULL;
  const n = (name: string, v: number): number => (flags.has(name) ? Number(flags.get(name)) : v);
  return {
    ...base,
    systems: flags.get('systems')?.split(',') ?? base.systems,
    idleConnections: n('idle', base.idleConnections),
    clusterIdleConnections: n('cluster-idle', base.clusterIdleConnections),
    clusterIdleNodes: n('cluster-idle-nodes', base.clusterIdleNodes),
    clusterNodes: n('cluster-nodes', base.clusterNodes),
    onlineDevices: n('devices', base.onlineDevices),
    stepSeconds: n('step-seconds', base.stepSeconds),
    idleOnly: flags.has('idle-only'),
  };
}

function summarize(reports: readonly StepReport[], rate: number, seconds: number, serverCpu: number, driverCpu: number): StepResult {
  const offered = reports.reduce((s, r) => s + r.offered, 0);
  const inWindow = reports.reduce((s, r) => s + r.deliveredInWindow, 0);
  const skipped = reports.reduce((s, r) => s + r.skipped, 0);
  const errors = reports.reduce((s, r) => s + Object.values(r.sendErrors).reduce((a, b) => a + b, 0), 0);
  const samples = Float64Array.from(reports.flatMap((r) => r.receiptMs)).sort();
  const p50 = percentileSorted(samples, 50);
  const p99 = percentileSorted(samples, 99);
  const share = offered > 0 ? inWindow / offered : 0;
  const saturated = share < MIN_DELIVERED_SHARE || !(p99 <= MAX_P99_MS) || (skipped + errors) / Math.max(1, offered) > MAX_SKIPPED_SHARE;
  return { rate, offered, deliveredPerSecond: inWindow / seconds, deliveredShare: share, p50, p99, skipped, errors, serverCpu, driverCpu, saturated };
}

function stepRow(s: StepResult, tag: string): string[] {
  return [
    tag,
    formatRate(s.rate),
    formatRate(s.deliveredPerSecond),
    `${(s.deliveredShare * 100).toFixed(0)}%`,
    formatMs(s.p50),
    formatMs(s.p99),
    String(s.skipped + s.errors),
    `${s.serverCpu.toFixed(0)}%`,
    `${s.driverCpu.toFixed(0)}%`,
    s.auxCpu !== undefined ? `${s.auxCpu.toFixed(0)}%` : '-',
    s.saturated ? 'SATURATED' : '',
  ];
}
const STEP_HEADER = ['step', 'offered/s', 'delivered/s', 'share', 'p50 ms', 'p99 ms', 'skip+err', 'server CPU', 'drivers CPU', 'PG+Redis CPU', ''];

async function runStep(sys: RunningSystem, pool: DriverPool, opts: LoadOptions, step: number, rate: number, seconds: number): Promise<StepResult> {
  const pids = sys.pids();
  const aux = sys.auxPids?.() ?? [];
  const aux0 = totalCpuMs(aux);
  const cpu0 = totalCpuMs(pids);
  const dcpu0 = pool.cpuMs();
  const t0 = performance.now();
  const replies = await pool.all(
    opts.trafficDrivers,
    () => ({ type: 'step', step, ratePerSecond: rate / opts.trafficDrivers, seconds, drainMs: opts.stepDrainMs }),
    'step',
  );
  const wall = performance.now() - t0;
  // CPU over the whole step (window + drain), as % of one core.
  const serverCpu = ((totalCpuMs(pids) - cpu0) / wall) * 100;
  const driverCpu = ((pool.cpuMs() - dcpu0) / wall) * 100;
  const s = summarize(
    replies.map((r) => r.report),
    rate,
    seconds,
    serverCpu,
    driverCpu,
  );
  return aux.length > 0 ? { ...s, auxCpu: ((totalCpuMs(aux) - aux0) / wall) * 100 } : s;
}

async function idlePhase(sys: RunningSystem, servers: readonly ServerTarget[], pool: DriverPool, count: number, perDriver: number, prefix: string): Promise<IdleResult> {
  const drivers = Math.min(pool.size, Math.max(1, Math.ceil(count / perDriver)));
  const redis = sys.label === 'b' ? redisPid() : undefined;
  await sleep(1000);
  const rssBefore = totalRss(sys.pids());
  const redisBefore = redis !== undefined ? rssBytes(redis) : 0;
  const t0 = performance.now();
  const share = Math.ceil(count / drivers);
  const replies = await pool.all(
    drivers,
    (i) => ({ type: 'idle', servers, count: Math.max(0, Math.min(share, count - i * share)), firstIndex: i * share, prefix }),
    'setup',
  );
  const setupSeconds = (performance.now() - t0) / 1000;
  await sleep(SETTLE_MS);
  const rssAfter = totalRss(sys.pids());
  const connected = replies.reduce((s, r) => s + r.connected, 0);
  const failed = replies.reduce((s, r) => s + r.failed, 0);
  const retried = replies.reduce((s, r) => s + r.retried, 0);
  const firstError = replies.find((r) => r.firstError !== '')?.firstError ?? '';
  const result: IdleResult = {
    requested: count,
    connected,
    failed,
    retried,
    firstError,
    setupSeconds,
    rssBefore,
    rssAfter,
    bytesPerConnection: connected > 0 ? (rssAfter - rssBefore) / connected : Number.NaN,
    ...(redis !== undefined ? { redisBytesPerConnection: connected > 0 ? (rssBytes(redis) - redisBefore) / connected : Number.NaN } : {}),
    servers: new Set(servers.map((s) => JSON.stringify(s))).size,
  };
  await pool.all(drivers, () => ({ type: 'close' }), 'closed');
  return result;
}

/** Recomputes which offline endpoint each driver's store sends reach (same formula as the driver). */
function expectedPerOwner(owners: readonly number[], drivers: number, perDriver: number): number[] {
  const counts = new Array<number>(drivers).fill(0);
  for (let g = 0; g < drivers; g++) for (let k = 0; k < perDriver; k++) counts[owners[(k * 7919 + g) % owners.length]!]!++;
  return counts;
}

async function measure(sys: RunningSystem, opts: LoadOptions, result: SystemResult): Promise<void> {
  const perDriver = opts.connectionsPerDriver;
  const idleCount = sys.label === 'b' ? opts.clusterIdleConnections : opts.idleConnections;
  const poolSize = Math.max(opts.trafficDrivers, Math.ceil(idleCount / perDriver));
  const pool = new DriverPool(poolSize);
  try {
    // ---- idle authenticated connections (first, on fresh server processes)
    log(`   idle: opening ${idleCount.toLocaleString('en-US')} authenticated connections over ${sys.servers.length} server process(es), ${Math.min(poolSize, Math.ceil(idleCount / perDriver))} driver process(es) ...`);
    const idle = await idlePhase(sys, sys.servers, pool, idleCount, perDriver, 'idle');
    result.idle = idle;
    log(
      `   idle: ${idle.connected.toLocaleString('en-US')} connected (${idle.failed} failed${idle.firstError ? `: ${idle.firstError}` : ''}; ${idle.retried} retried after INTERNAL) in ${idle.setupSeconds.toFixed(1)} s; ` +
        `server RSS ${mib(idle.rssBefore)} -> ${mib(idle.rssAfter)} = ${kib(idle.bytesPerConnection)} per connection` +
        (idle.redisBytesPerConnection !== undefined ? ` (+ Redis ${kib(idle.redisBytesPerConnection)})` : ''),
    );
    if (opts.idleOnly) return;
    if (sys.label === 'b' && sys.shrinkTo) await sys.shrinkTo(opts.clusterNodes);
    const servers = sys.servers;

    // ---- 1:1 messages between online endpoints
    const share = Math.ceil(opts.onlineDevices / opts.trafficDrivers);
    const setups = await pool.all(opts.trafficDrivers, (i) => ({ type: 'online', servers, count: share, firstIndex: i * share, prefix: 'on' }), 'setup');
    const entries: Entry[] = setups.flatMap((s) => s.entries);
    const failedSetup = setups.reduce((s, r) => s + r.failed, 0);
    log(`   online: ${entries.length} endpoints ready over ${servers.length} server process(es) (${failedSetup} failed${failedSetup ? `: ${setups.find((s) => s.firstError)?.firstError}` : ''})`);
    if (entries.length < 2) throw new Error('not enough online endpoints');
    await pool.all(opts.trafficDrivers, () => ({ type: 'directory', entries }), 'ready');
    let step = 1;
    // Warm-up, not recorded: a whole step, so pools, caches and JIT are warm before the ramp (a
    // 1 s warm-up let a cold first step cut the ramp short at random).
    await runStep(sys, pool, opts, step++, opts.startRate / 2, opts.stepSeconds);
    const totalsBefore = await storeTotals(sys);
    log(`   ${STEP_HEADER.join('  ')}`);
    let rate = opts.startRate;
    let lastGood: number | undefined;
    let firstBad: number | undefined;
    const refine = async (low: number, high: number): Promise<void> => {
      const r = await runStep(sys, pool, opts, step++, Math.round(Math.sqrt(low * high)), opts.stepSeconds);
      result.steps.push(r);
      log(`   ${stepRow(r, 'refine').join('  ')}`);
    };
    for (let i = 0; i < opts.maxSteps; i++) {
      const s = await runStep(sys, pool, opts, step++, rate, opts.stepSeconds);
      result.steps.push(s);
      log(`   ${stepRow(s, `ramp ${i + 1}`).join('  ')}`);
      if (s.saturated) {
        // Saturated at the very start: step down until a rate is carried, then climb again.
        if (lastGood === undefined && rate > MIN_RATE) {
          firstBad = rate;
          rate = Math.max(MIN_RATE, Math.round(rate / 4));
          continue;
        }
        if (lastGood !== undefined) await refine(lastGood, rate);
        break;
      }
      lastGood = rate;
      if (firstBad !== undefined && rate * opts.rateFactor >= firstBad) {
        await refine(rate, firstBad);
        break;
      }
      rate = Math.round(rate * opts.rateFactor);
    }
    const peak = Math.max(...result.steps.map((s) => s.deliveredPerSecond));
    result.saturationPerSecond = peak;
    const half = await runStep(sys, pool, opts, step++, Math.max(100, Math.round(peak / 2)), opts.halfSeconds);
    result.half = half;
    log(`   ${stepRow(half, 'half').join('  ')}`);

    const storeOps = storeLatency(totalsBefore, await storeTotals(sys));
    if (storeOps !== '') {
      result.notes.push(`store operation mean latency over the ramp: ${storeOps}`);
      log(`   store operation mean latency over the ramp (relay /metrics): ${storeOps}`);
    }

    // ---- store-and-forward to offline endpoints
    if (sys.label === 'd') {
      result.notes.push('store-and-forward: not applicable (the forwarder stores nothing)');
    } else {
      const offShare = Math.ceil(opts.offlineDevices / opts.trafficDrivers);
      const off = await pool.all(opts.trafficDrivers, (i) => ({ type: 'offline', servers, count: offShare, firstIndex: i * offShare + 500_000, prefix: 'off' }), 'setup');
      const offEntries = off.flatMap((o) => o.entries);
      const owners = off.flatMap((o, g) => o.entries.map(() => g));
      const perDriver = Math.floor(opts.offlineMessages / opts.trafficDrivers);
      const storeStep = step++;
      const stored = await pool.all(
        opts.trafficDrivers,
        () => ({ type: 'store', step: storeStep, targets: offEntries, count: perDriver, ratePerSecond: opts.storeRate / opts.trafficDrivers, timeoutMs: 120_000 }),
        'store',
      );
      const sent = stored.reduce((s, r) => s + r.report.sent, 0);
      const ok = stored.reduce((s, r) => s + r.report.sendOk, 0);
      const errors = stored.reduce((s, r) => s + Object.values(r.report.sendErrors).reduce((a, b) => a + b, 0), 0);
      const storeMs = Math.max(...stored.map((r) => r.report.ms));
      log(`   store: ${sent} sent to ${offEntries.length} offline endpoints at ${opts.storeRate}/s offered, ${ok} acknowledged (${errors} errors) in ${(storeMs / 1000).toFixed(1)} s`);
      const expected = expectedPerOwner(owners, opts.trafficDrivers, perDriver);
      const drains = await pool.all(opts.trafficDrivers, (g) => ({ type: 'drain', step: storeStep, expected: expected[g]!, timeoutMs: 180_000, quietMs: 5000 }), 'drain');
      const delivered = drains.reduce((s, d) => s + d.report.delivered, 0);
      const start = Math.min(...drains.map((d) => d.report.connectStartAt));
      const connected = Math.max(...drains.map((d) => d.report.connectedAt));
      const last = Math.max(...drains.map((d) => d.report.lastDeliveryAt));
      const drainSeconds = (last - start) / 1000;
      result.store = {
        sent,
        stored: ok,
        errors,
        storePerSecond: ok / (storeMs / 1000),
        delivered,
        drainPerSecond: drainSeconds > 0 ? delivered / drainSeconds : 0,
        drainSeconds,
        connectSeconds: (connected - start) / 1000,
        duplicates: drains.reduce((s, d) => s + d.report.duplicates, 0),
      };
      const drainFailed = drains.reduce((s, d) => s + d.report.failed, 0);
      if (drainFailed > 0) log(`   drain: ${drainFailed} endpoints failed to connect: ${drains.find((d) => d.report.firstError)?.report.firstError}`);
      log(`   drain: per driver delivered/expected ${drains.map((d) => `${d.report.delivered}/${d.report.expected}`).join(', ')}`);
      log(`   drain: ${delivered}/${sent} delivered in ${drainSeconds.toFixed(2)} s after connecting (connects took ${result.store.connectSeconds.toFixed(2)} s) = ${formatRate(result.store.drainPerSecond)}/s`);
    }
    await pool.all(opts.trafficDrivers, () => ({ type: 'close' }), 'closed');
  } finally {
    await pool.stop();
  }
}

type StoreTotals = Map<string, { sum: number; count: number }>;

/** Store-operation latency totals from the Pigeon nodes' /metrics (empty for other systems). */
async function storeTotals(sys: RunningSystem): Promise<StoreTotals> {
  const sums: StoreTotals = new Map();
  for (const base of sys.adminUrls?.() ?? []) {
    try {
      const text = await (await fetch(new URL('/metrics', base))).text();
      // Group-commit batches (PostgreSQL) as pseudo-operations: sum = operations carried, count = batches.
      for (const m of text.matchAll(/^pigeon_relay_store_batch(es|_items)_total\{kind="([^"]+)"\} ([0-9.eE+-]+)$/gm)) {
        const e = sums.get(`batch:${m[2]!}`) ?? { sum: 0, count: 0 };
        if (m[1] === 'es') e.count += Number(m[3]);
        else e.sum += Number(m[3]);
        sums.set(`batch:${m[2]!}`, e);
      }
      for (const m of text.matchAll(/^pigeon_relay_store_operation_seconds_(sum|count)\{[^}]*="([^"]+)"[^}]*\} ([0-9.eE+-]+)$/gm)) {
        const e = sums.get(m[2]!) ?? { sum: 0, count: 0 };
        if (m[1] === 'sum') e.sum += Number(m[3]);
        else e.count += Number(m[3]);
        sums.set(m[2]!, e);
      }
    } catch {
      // metrics are a diagnostic only
    }
  }
  return sums;
}

/** Mean latency per store operation between two snapshots (what bounds a relay that is not CPU-bound). */
function storeLatency(before: StoreTotals, after: StoreTotals): string {
  return [...after.entries()]
    .map(([op, e]) => {
      const b = before.get(op) ?? { sum: 0, count: 0 };
      return [op, e.sum - b.sum, e.count - b.count] as const;
    })
    .filter(([, , count]) => count > 0)
    .map(([op, sum, count]) => (op.startsWith('batch:') ? `${op} ${(sum / count).toFixed(1)} per batch (${count} batches)` : `${op} ${((sum / count) * 1000).toFixed(2)} ms (${count})`))
    .join(', ');
}

async function startSystem(label: string, opts: LoadOptions): Promise<RunningSystem> {
  switch (label) {
    case 'a':
      return startPigeonSqlite();
    case 'b':
      return startPigeonCluster(Math.max(opts.clusterNodes, opts.clusterIdleNodes));
    case 'c':
      return startEjabberdSystem(log);
    case 'd':
      return startBareForwarder();
    default:
      throw new Error(`unknown system ${label} (a, b, c, d)`);
  }
}

function ratio(x: number | undefined, y: number | undefined): number {
  return x !== undefined && y !== undefined && y > 0 ? x / y : Number.NaN;
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'BELOW';
}

async function main(): Promise<void> {
  const opts = parseFlags(process.argv.slice(2));
  log(`Relay load benchmark${opts.quick ? ' (--quick)' : ''}: systems ${opts.systems.join(', ')}`);
  const before = loadLine('before');
  log(before.line);
  const results: SystemResult[] = [];
  let current: RunningSystem | undefined;
  const onSignal = (): void => {
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (const label of opts.systems) {
    const result: SystemResult = { label, name: NAMES[label] ?? label, notes: [], steps: [] };
    results.push(result);
    log(`\n== ${result.name}`);
    try {
      current = await startSystem(label, opts);
      result.notes.push(...current.notes);
      for (const n of current.notes) log(`   ${n}`);
      await measure(current, opts, result);
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
      log(`   NOT MEASURED: ${result.error}`);
    } finally {
      await current?.stop().catch(() => {});
      current = undefined;
    }
  }
  const after = loadLine('after');

  // ---- summary
  const by = (l: string): SystemResult | undefined => results.find((r) => r.label === l && r.error === undefined);
  const rows: string[][] = [['system', 'delivered/s at saturation', 'p50 / p99 ms at half', 'store-and-forward drain/s', 'idle conns held', 'memory / idle conn']];
  for (const r of results) {
    rows.push([
      r.name,
      r.error ? 'not measured' : formatRate(r.saturationPerSecond ?? Number.NaN),
      r.half ? `${formatMs(r.half.p50)} / ${formatMs(r.half.p99)}` : 'n/a',
      r.store ? `${formatRate(r.store.drainPerSecond)} (${r.store.delivered}/${r.store.sent})` : 'n/a',
      r.idle ? `${r.idle.connected.toLocaleString('en-US')} on ${r.idle.servers} proc` : 'n/a',
      r.idle ? kib(r.idle.bytesPerConnection) + (r.idle.redisBytesPerConnection !== undefined ? ` + Redis ${kib(r.idle.redisBytesPerConnection)}` : '') : 'n/a',
    ]);
  }
  log('\n== Summary');
  log(table(rows));
  const a = by('a');
  const b = by('b');
  const c = by('c');
  const d = by('d');
  const checks: string[][] = [['check', 'value', 'target', '']];
  for (const p of [a, b]) {
    if (p === undefined) continue;
    const tag = p.label;
    const vsC = ratio(p.saturationPerSecond, c?.saturationPerSecond);
    const vsD = ratio(p.saturationPerSecond, d?.saturationPerSecond);
    const mem = ratio(p.idle?.bytesPerConnection, c?.idle?.bytesPerConnection);
    checks.push([`(${tag}) delivered/s vs ejabberd`, Number.isFinite(vsC) ? `${vsC.toFixed(2)}x` : 'n/a', '>= 2x', verdict(Number.isFinite(vsC) ? vsC >= 2 : undefined)]);
    checks.push([`(${tag}) delivered/s vs bare forwarder`, Number.isFinite(vsD) ? `${(vsD * 100).toFixed(0)}%` : 'n/a', '>= 50%', verdict(Number.isFinite(vsD) ? vsD >= 0.5 : undefined)]);
    checks.push([`(${tag}) memory per idle conn vs ejabberd`, Number.isFinite(mem) ? `${mem.toFixed(2)}x` : 'n/a', '<= 0.5x', verdict(Number.isFinite(mem) ? mem <= 0.5 : undefined)]);
  }
  if (b?.idle) {
    checks.push(['(b) idle authenticated connections held', `${b.idle.connected.toLocaleString('en-US')} on ${b.idle.servers} nodes`, '>= 100,000', verdict(b.idle.connected >= 100_000)]);
  }
  if (c && d) {
    const cd = ratio(c.saturationPerSecond, d.saturationPerSecond);
    checks.push(['(c) ejabberd vs bare forwarder (context)', `${(cd * 100).toFixed(0)}%`, '', '']);
  }
  log('\n== Ratios and targets');
  log(table(checks));
  log(before.line);
  log(after.line);
  const file = writeResults('relay-load', { options: opts, loadBefore: before.load1, loadAfter: after.load1, results });
  log(`\n   results: ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
