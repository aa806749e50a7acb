/**
 * `npm run bench:lab`: the censor scenarios of issue 3, measured. One World (relay behind a TLS
 * front, a bridge process) for the whole run; every run of every scenario has a fresh censor and
 * two fresh users (the same harness as packages/e2e's censor tests, @pigeon/e2e/scenarios).
 *
 * Per scenario: found a way (every post-onset message exactly once, in order, both users on a
 * route that works under that censor), recovery = censor onset -> next delivered message (median
 * and worst over --runs, default 20), and throughput through the route in use as a ratio of the
 * same burst with no censor. Targets: every scenario passes; median recovery < 5 s, worst < 15 s.
 * The onset is drawn at random within one keepalive interval of the last pre-onset message.
 *
 * node bench/dist/src/lab/run-lab.js [--runs=20] [--only=freeze,throttle] [--burst=20x4000]
 */
import { RACER_CONNECTION_TUNING, DEFAULT_STAGGER_MS, DEFAULT_ATTEMPT_TIMEOUT_MS, FAILURE_PENALTY_MS, DEFAULT_MAX_ATTEMPTS_PER_MINUTE } from '@pigeon/transport';
import { SCENARIOS, kindOf, runScenario, startWorld } from '@pigeon/e2e/scenarios';
import type { MessagePlan, ScenarioResult, ScenarioSpec } from '@pigeon/e2e/scenarios';
import { loadLine, writeResults } from '../common/results.js';
import { median, table } from '../common/stats.js';

export const TARGET_MEDIAN_MS = 5_000;
export const TARGET_WORST_MS = 15_000;
export const DEFAULT_RUNS = 20;
export const DEFAULT_BURST: MessagePlan = { count: 20, size: 4_000 };
/** Baseline bursts (no censor) whose median is the throughput reference. */
const BASELINE_RUNS = 3;

export interface LabOptions {
  readonly runs: number;
  readonly only: readonly string[];
  readonly burst: MessagePlan;
}

interface Row {
  readonly name: string;
  readonly behaviour: string;
  readonly runs: number;
  readonly found: number;
  readonly recoveryMs: number[];
  readonly detectedMs: number[];
  readonly switchedMs: number[];
  readonly routes: Record<string, number>;
  readonly throughputRatio: number | undefined;
  readonly problems: string[];
  readonly verdict: 'PASS' | 'BELOW';
}

const BASELINE: ScenarioSpec = { name: 'no-censor', behaviour: 'baseline: no censor', censorBites: false, rules: () => [], works: ['direct'], after: { count: 1, size: 40 } };

function seconds(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '-' : (ms / 1000).toFixed(1);
}

function worst(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

export async function runLabBenchmark(options: LabOptions): Promise<void> {
  const scenarios = options.only.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => options.only.includes(s.name));
  if (scenarios.length === 0) throw new Error(`no scenario matches --only=${options.only.join(',')} (have ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const before = loadLine('before');
  console.log(`bench:lab — ${scenarios.length} censor scenarios x ${options.runs} runs; burst ${options.burst.count} x ${options.burst.size} B`);
  console.log(before.line);
  const world = await startWorld();
  const rows: Row[] = [];
  let baselineMs: number | undefined;
  try {
    const baseline: number[] = [];
    for (let i = 0; i < BASELINE_RUNS; i++) {
      const r = await runScenario(world, BASELINE, { burst: options.burst });
      if (r.burstMs !== undefined) baseline.push(r.burstMs);
    }
    baselineMs = baseline.length > 0 ? median(baseline) : undefined;
    console.log(`   baseline burst, direct, no censor: ${baselineMs?.toFixed(0) ?? '-'} ms (median of ${baseline.length})`);

    for (const spec of scenarios) {
      const results: ScenarioResult[] = [];
      let burstMs: number | undefined;
      for (let run = 0; run < options.runs; run++) {
        // The burst (throughput) is timed in the first run that found a way.
        const wantBurst = burstMs === undefined;
        const r = await runScenario(world, spec, {
          onsetDelayMs: Math.floor(Math.random() * RACER_CONNECTION_TUNING.keepaliveIntervalMs),
          ...(wantBurst ? { burst: options.burst } : {}),
          deliveryTimeoutMs: 90_000,
        });
        if (wantBurst && r.burstMs !== undefined) burstMs = r.burstMs;
        results.push(r);
        console.log(
          `   ${spec.name} run ${run + 1}/${options.runs}: ${r.found ? 'found' : 'FAILED'} recovery ${seconds(r.recoveryMs)} s ` +
            `(broken route seen ${seconds(r.detectedMs)} s, race won ${seconds(r.switchedMs)} s); bob via ${kindOf(r.receiverRoute) ?? '-'}` +
            `${r.burstMs !== undefined ? `; burst ${r.burstMs} ms` : ''}${r.problem !== '' ? `; ${r.problem}` : ''}`,
        );
      }
      const ok = results.filter((r) => r.found);
      const recoveryMs = results.map((r) => r.recoveryMs ?? Number.POSITIVE_INFINITY);
      const routes: Record<string, number> = {};
      for (const r of results) {
        const k = kindOf(r.receiverRoute) ?? 'none';
        routes[k] = (routes[k] ?? 0) + 1;
      }
      const med = median(recoveryMs);
      const pass = ok.length === results.length && med < TARGET_MEDIAN_MS && worst(recoveryMs) < TARGET_WORST_MS;
      rows.push({
        name: spec.name,
        behaviour: spec.behaviour,
        runs: results.length,
        found: ok.length,
        recoveryMs,
        detectedMs: results.flatMap((r) => (r.detectedMs !== undefined ? [r.detectedMs] : [])),
        switchedMs: results.flatMap((r) => (r.switchedMs !== undefined ? [r.switchedMs] : [])),
        routes,
        throughputRatio: baselineMs !== undefined && burstMs !== undefined ? baselineMs / burstMs : undefined,
        problems: results.filter((r) => !r.found).map((r) => `${r.problem}\n${r.explain.split('\n').slice(0, 30).join('\n')}`),
        verdict: pass ? 'PASS' : 'BELOW',
      });
    }
  } finally {
    await world.stop();
  }

  const header = ['scenario', 'found a way', 'route (bob)', 'recovery median s', 'worst s', 'broken seen median s', 'race won median s', 'throughput vs direct', 'target', 'verdict'];
  const body = rows.map((r) => [
    r.name,
    r.found === r.runs ? `yes (${r.found}/${r.runs})` : `NO (${r.found}/${r.runs})`,
    Object.entries(r.routes)
      .map(([k, n]) => (Object.keys(r.routes).length > 1 ? `${k} ${n}` : k))
      .join(', '),
    seconds(median(r.recoveryMs)),
    seconds(worst(r.recoveryMs)),
    seconds(median(r.detectedMs)),
    seconds(median(r.switchedMs)),
    r.throughputRatio !== undefined ? `${r.throughputRatio.toFixed(2)}x` : '-',
    '<5 / <15',
    r.verdict,
  ]);
  console.log('');
  console.log(table([header, ...body]));
  const after = loadLine('after');
  console.log(after.line);
  console.log(
    `   racer tuning: keepalive ${RACER_CONNECTION_TUNING.keepaliveIntervalMs} ms + timeout ${RACER_CONNECTION_TUNING.keepaliveTimeoutMs} ms, ` +
      `reconnect base ${RACER_CONNECTION_TUNING.reconnectBaseMs} ms, stagger ${DEFAULT_STAGGER_MS} ms, attempt timeout ${DEFAULT_ATTEMPT_TIMEOUT_MS} ms, ` +
      `failure penalty ${FAILURE_PENALTY_MS} ms, ${DEFAULT_MAX_ATTEMPTS_PER_MINUTE} attempts/min per destination`,
  );
  for (const r of rows) {
    if (r.verdict === 'PASS') continue;
    const detected = median(r.detectedMs);
    const rec = median(r.recoveryMs);
    const share = Number.isFinite(detected) && Number.isFinite(rec) && rec > 0 ? Math.round((100 * detected) / rec) : undefined;
    console.log(
      `   ${r.name}: ${r.found}/${r.runs} found; median ${seconds(rec)} s of which ${seconds(detected)} s` +
        `${share !== undefined ? ` (${share}%)` : ''} until the client saw the route was broken, race won at ${seconds(median(r.switchedMs))} s`,
    );
    for (const p of r.problems.slice(0, 2)) console.log(`     problem: ${p.split('\n')[0]}`);
  }
  const file = writeResults('lab', {
    options,
    targets: { medianMs: TARGET_MEDIAN_MS, worstMs: TARGET_WORST_MS },
    tuning: { ...RACER_CONNECTION_TUNING, staggerMs: DEFAULT_STAGGER_MS, attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS, failurePenaltyMs: FAILURE_PENALTY_MS },
    baselineBurstMs: baselineMs,
    load1Before: before.load1,
    load1After: after.load1,
    rows: rows.map((r) => ({ ...r, medianRecoveryMs: median(r.recoveryMs), worstRecoveryMs: worst(r.recoveryMs) })),
  });
  console.log(`   results: ${file}`);
}
