/**
 * Benchmark entry. `node bench/dist/src/run.js [protocol|delivery]... [--seconds=3] [--repeats=3]
 * [--warmup=1] [--only=libsignal,pigeon] [--kinds=setup,oneWay,pingPong] [--devices=100,1000] [--step-seconds=3]
 * [--durability=full|normal] [--profile-relay=DIR]`; `groups [--sizes=100,1000] [--messages=5] [--real=3] [--inline-welcome]`.
 * Without a benchmark name it runs protocol, then delivery (groups runs only when named).
 */
import { DEFAULT_PROTOCOL_OPTIONS, runProtocolBenchmark } from './protocol/run-protocol.js';
import { DEFAULT_DELIVERY_OPTIONS, runDeliveryBenchmark } from './delivery/run-delivery.js';
import { DEFAULT_GROUP_OPTIONS, runGroupBenchmark } from './groups/run-groups.js';

function parseArgs(argv: readonly string[]): { names: string[]; flags: Map<string, string> } {
  const names: string[] = [];
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (m) flags.set(m[1]!, m[2] ?? 'true');
    else names.push(arg);
  }
  return { names, flags };
}

function num(flags: Map<string, string>, name: string, fallback: number): number {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

function list(flags: Map<string, string>, name: string): string[] | undefined {
  return flags.get(name)?.split(',').filter((s) => s.length > 0);
}

async function main(): Promise<void> {
  const { names, flags } = parseArgs(process.argv.slice(2));
  const which = names.length === 0 ? ['protocol', 'delivery'] : names;
  for (const name of which) {
    if (name === 'protocol') {
      await runProtocolBenchmark({
        seconds: num(flags, 'seconds', DEFAULT_PROTOCOL_OPTIONS.seconds),
        repeats: num(flags, 'repeats', DEFAULT_PROTOCOL_OPTIONS.repeats),
        warmupSeconds: num(flags, 'warmup', DEFAULT_PROTOCOL_OPTIONS.warmupSeconds),
        only: list(flags, 'only') ?? [],
        kinds: list(flags, 'kinds') ?? [],
      });
    } else if (name === 'delivery') {
      await runDeliveryBenchmark({
        ...DEFAULT_DELIVERY_OPTIONS,
        deviceCounts: (list(flags, 'devices') ?? DEFAULT_DELIVERY_OPTIONS.deviceCounts.map(String)).map(Number),
        stepSeconds: num(flags, 'step-seconds', DEFAULT_DELIVERY_OPTIONS.stepSeconds),
        durability: flags.get('durability') === 'normal' ? 'normal' : 'full',
        ...(flags.has('profile-relay') ? { relayProfileDir: flags.get('profile-relay')! } : {}),
      });
    } else if (name === 'groups') {
      await runGroupBenchmark({
        sizes: (list(flags, 'sizes') ?? DEFAULT_GROUP_OPTIONS.sizes.map(String)).map(Number),
        messages: num(flags, 'messages', DEFAULT_GROUP_OPTIONS.messages),
        real: num(flags, 'real', DEFAULT_GROUP_OPTIONS.real),
        inlineWelcome: flags.has('inline-welcome'),
      });
    } else {
      throw new Error(`unknown benchmark "${name}" (protocol, delivery, groups)`);
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
