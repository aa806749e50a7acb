/**
 * Protocol benchmark: Pigeon's sessions side by side with libsignal-client, in one process and
 * one run, so both see the same machine state. Each measurement is a fixed clocked time; the
 * contenders are interleaved (order rotated each repeat) and the median of the repeats is kept.
 * The benchmark reports; it never fails on a missed target.
 */
import { formatRate, median, table } from '../common/stats.js';
import { loadLine, writeResults } from '../common/results.js';
import type { Clocked, Contender, Conversation } from './contender.js';
import { MESSAGE_BYTES, startClock } from './contender.js';
import { loadPigeonContenders } from './pigeon-contender.js';

export interface ProtocolOptions {
  /** Clocked seconds per measurement. */
  readonly seconds: number;
  readonly repeats: number;
  /** Clocked seconds of warm-up per contender and benchmark (JIT, caches). */
  readonly warmupSeconds: number;
  /** Only contenders whose name contains one of these (for profiling one side). */
  readonly only: readonly string[];
  /** Only these benchmarks (setup, oneWay, pingPong); empty = all. */
  readonly kinds: readonly string[];
}

export const DEFAULT_PROTOCOL_OPTIONS: ProtocolOptions = { seconds: 3, repeats: 3, warmupSeconds: 1, only: [], kinds: [] };

export type BenchKind = 'setup' | 'oneWay' | 'pingPong';
const KINDS: readonly BenchKind[] = ['setup', 'oneWay', 'pingPong'];
const LABEL: Record<BenchKind, string> = {
  setup: 'session setup / s',
  oneWay: 'one-way msgs / s',
  pingPong: 'ping-pong msgs / s',
};
/** Pigeon (default backend) / libsignal, the goals this benchmark tracks. */
const TARGET: Record<BenchKind, number> = { setup: 1.5, oneWay: 3, pingPong: 2 };
/** Messages per timed batch in the messaging benchmarks. */
const BATCH = 50;
/** A measurement stops after this multiple of its clocked budget in wall time (unclocked key generation). */
const WALL_FACTOR = 6;

/** Operations per second of wall time and per second of this process's CPU time. */
export interface Rate {
  readonly perSecond: number;
  readonly perCpuSecond: number;
}

/** Runs one benchmark for `seconds` of clocked wall time. */
export async function measure(kind: BenchKind, contender: Contender, seconds: number): Promise<Rate> {
  const budgetMs = seconds * 1000;
  const wallEnd = performance.now() + budgetMs * WALL_FACTOR;
  let wall = 0;
  let cpu = 0;
  let ops = 0;
  const add = (c: Clocked, n: number) => {
    wall += c.wallMs;
    cpu += c.cpuMs;
    ops += n;
  };
  if (kind === 'setup') {
    while (wall < budgetMs && performance.now() < wallEnd) add(await contender.setup(), 1);
  } else {
    const conversation: Conversation = await contender.newConversation();
    while (wall < budgetMs && performance.now() < wallEnd) {
      const stop = startClock();
      if (kind === 'oneWay') await conversation.oneWay(BATCH);
      else await conversation.pingPong(BATCH);
      add(stop(), BATCH);
    }
  }
  return { perSecond: (ops * 1000) / wall, perCpuSecond: (ops * 1000) / cpu };
}

interface Row {
  readonly contender: string;
  /** One Rate per repeat, in repeat order. */
  readonly samples: Record<BenchKind, Rate[]>;
  readonly median: Record<BenchKind, Rate>;
}

type Verdict = { ratio: number; cpuRatio: number; target: number; verdict: string };

function medianRate(xs: readonly Rate[]): Rate {
  return { perSecond: median(xs.map((x) => x.perSecond)), perCpuSecond: median(xs.map((x) => x.perCpuSecond)) };
}

/** Median of per-repeat ratios: the two samples of one repeat ran close together in time. */
function ratioOf(p: readonly Rate[], l: readonly Rate[], pick: (r: Rate) => number): number {
  const perRepeat = p.map((x, i) => pick(x) / (l[i] === undefined ? Number.NaN : pick(l[i]!))).filter(Number.isFinite);
  return perRepeat.length > 0 ? median(perRepeat) : Number.NaN;
}

export async function runProtocolBenchmark(options: ProtocolOptions = DEFAULT_PROTOCOL_OPTIONS): Promise<Record<string, unknown>> {
  const notes: string[] = [];
  const contenders: Contender[] = [];
  const pigeon = await loadPigeonContenders();
  if (pigeon.ok) contenders.push(...pigeon.contenders);
  else notes.push(`Pigeon protocol not measured: ${pigeon.reason}`);
  notes.push(...(pigeon.ok ? pigeon.notes : []));
  try {
    // Loaded lazily: a platform without libsignal's prebuilt native module still gets the Pigeon rows.
    const { createLibsignalContender } = await import('./libsignal-contender.js');
    contenders.push(createLibsignalContender());
  } catch (error) {
    notes.push(`libsignal-client not measured: ${error instanceof Error ? error.message : String(error)}`);
  }
  const kinds = KINDS.filter((k) => options.kinds.length === 0 || options.kinds.includes(k));
  const selected = contenders.filter((c) => options.only.length === 0 || options.only.some((s) => c.name.includes(s)));

  console.log(`\n== Protocol: Pigeon vs libsignal-client (${MESSAGE_BYTES}-byte messages, stores serialize per message)`);
  console.log(`   ${options.seconds}s clocked per measurement, ${options.repeats} interleaved repeats, median; warm-up ${options.warmupSeconds}s`);
  for (const note of notes) console.log(`   note: ${note}`);
  const loadBefore = loadLine('before');
  console.log(loadBefore.line);

  const failures = new Map<string, string>();
  const samples = new Map<string, Record<BenchKind, Rate[]>>(selected.map((c) => [c.name, { setup: [], oneWay: [], pingPong: [] }]));
  const run = async (c: Contender, kind: BenchKind, seconds: number): Promise<Rate | undefined> => {
    if (failures.has(c.name)) return undefined;
    try {
      return await measure(kind, c, seconds);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failures.set(c.name, reason);
      console.log(`   ${c.name}: FAILED during ${kind}: ${reason}`);
      return undefined;
    }
  };

  for (const c of selected) for (const kind of kinds) await run(c, kind, options.warmupSeconds);
  for (let r = 0; r < options.repeats; r++) {
    for (const kind of kinds) {
      const order = selected.map((_, i) => selected[(i + r) % selected.length]!);
      for (const c of order) {
        const rate = await run(c, kind, options.seconds);
        if (rate !== undefined) samples.get(c.name)![kind].push(rate);
      }
    }
    process.stdout.write(`   repeat ${r + 1}/${options.repeats} done\n`);
  }

  const rows: Row[] = selected.map((c) => {
    const s = samples.get(c.name)!;
    return { contender: c.name, samples: s, median: { setup: medianRate(s.setup), oneWay: medianRate(s.oneWay), pingPong: medianRate(s.pingPong) } };
  });

  const header = ['per wall-clock second (median, ±half-range)', ...rows.map((r) => r.contender)];
  const cell = (r: Row, k: BenchKind) => {
    const xs = r.samples[k].map((x) => x.perSecond);
    if (xs.length === 0) return 'n/a';
    const mid = r.median[k].perSecond;
    const spread = xs.length > 1 ? `  ±${((50 * (Math.max(...xs) - Math.min(...xs))) / mid).toFixed(0)}%` : '';
    return formatRate(mid) + spread;
  };
  console.log('\n' + table([header, ...kinds.map((k) => [LABEL[k], ...rows.map((r) => cell(r, k))])]));

  const libsignal = rows.find((r) => r.contender.startsWith('libsignal'));
  const ratios: Record<string, Partial<Record<BenchKind, Verdict>>> = {};
  const pigeonRows = rows.filter((r) => r.contender.startsWith('pigeon'));
  if (libsignal !== undefined && pigeonRows.length > 0) {
    const ratioRows: string[][] = [
      ['Pigeon / libsignal', ...pigeonRows.flatMap((r) => [`${r.contender} wall`, 'per CPU-s']), 'target', 'verdict (default, wall)'],
    ];
    for (const k of kinds) {
      const cells = pigeonRows.flatMap((p) => {
        const ratio = ratioOf(p.samples[k], libsignal.samples[k], (x) => x.perSecond);
        const cpuRatio = ratioOf(p.samples[k], libsignal.samples[k], (x) => x.perCpuSecond);
        const verdict = !Number.isFinite(ratio) ? 'n/a' : ratio >= TARGET[k] ? 'PASS' : 'BELOW';
        (ratios[p.contender] ??= {})[k] = { ratio, cpuRatio, target: TARGET[k], verdict };
        const show = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');
        return [show(ratio), show(cpuRatio)];
      });
      ratioRows.push([LABEL[k], ...cells, `>= ${TARGET[k]}x`, ratios[pigeonRows[0]!.contender]![k]!.verdict]);
    }
    console.log('\n' + table(ratioRows));
    console.log('   (ratios: median of per-repeat ratios; "per CPU-s" counts only this process\'s CPU time, steadier on a busy machine)');
  } else {
    console.log('\n   no ratios: Pigeon or libsignal row missing');
  }
  for (const [name, reason] of failures) console.log(`   ${name} failed: ${reason}`);
  const loadAfter = loadLine('after');
  console.log(loadAfter.line);

  const result = {
    options,
    notes,
    load1: { before: loadBefore.load1, after: loadAfter.load1 },
    failures: Object.fromEntries(failures),
    rows,
    ratios,
    targets: TARGET,
    messageBytes: MESSAGE_BYTES,
  };
  const file = writeResults('protocol', result);
  console.log(`   results: ${file}`);
  return result;
}
