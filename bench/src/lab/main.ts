/**
 * Entry of `npm run bench:lab`: node bench/dist/src/lab/main.js [--runs=N] [--only=a,b] [--burst=COUNTxBYTES]
 */
import { DEFAULT_BURST, DEFAULT_RUNS, runLabBenchmark } from './run-lab.js';

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(prefix));
  if (i < 0) return undefined;
  const arg = process.argv[i]!;
  return arg.startsWith(prefix) ? arg.slice(prefix.length) : process.argv[i + 1];
}

const runs = Number(flag('runs') ?? DEFAULT_RUNS);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
const burstText = flag('burst');
const m = burstText !== undefined ? /^(\d+)x(\d+)$/.exec(burstText) : null;
if (burstText !== undefined && m === null) throw new Error('--burst is COUNTxBYTES, e.g. 20x4000');
const burst = m !== null ? { count: Number(m[1]), size: Number(m[2]) } : DEFAULT_BURST;
const only = (flag('only') ?? '').split(',').filter((s) => s !== '');

runLabBenchmark({ runs, only, burst }).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
