/**
 * The relay under test, in its own process (forked by run-delivery.ts with IPC): the real
 * createRelay from @pigeon/relay with its durable SQLite store in a temp directory, on
 * 127.0.0.1 and an OS-chosen port. Reports its CPU time and RSS on request.
 */
import type { FromRelay, ToRelay } from './ipc.js';

interface RunningRelay {
  readonly url: string;
  close(): Promise<void>;
}

function reply(message: FromRelay): void {
  process.send?.(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let relay: RunningRelay | undefined;

/**
 * The relay's abuse limits, raised: every load-generator socket comes from 127.0.0.1, and the
 * defaults (64 connections and 2,000 frames/s per address, 200 frames/s per connection) would
 * measure the rate limiter instead of the relay. Capacity limits (mailbox, delivery window,
 * buffered bytes) keep their defaults.
 */
export const BENCH_LIMITS = {
  maxConnectionsPerAddress: 20_000,
  connectionFramesPerSecond: 1_000_000,
  connectionFrameBurst: 1_000_000,
  addressFramesPerSecond: 10_000_000,
  addressFrameBurst: 10_000_000,
} as const;

/** Starts the relay through its public entry; a missing piece is reported, not assumed. */
async function startRelay(dataDir: string, durability: 'full' | 'normal', notes: string[]): Promise<RunningRelay> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('@pigeon/relay')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`cannot load @pigeon/relay (${describe(error)}); run npm run build`);
  }
  const createRelay = mod['createRelay'];
  if (typeof createRelay !== 'function') throw new Error('@pigeon/relay does not export createRelay yet');
  // 'full' (the relay's default): fsync per group commit. 'normal' only to measure what fsync costs.
  const relayHandle = (createRelay as (options: Record<string, unknown>) => { start(): Promise<{ url: string }>; stop(): Promise<void> })({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    durability,
    limits: BENCH_LIMITS,
  });
  const address = await relayHandle.start();
  notes.push(`relay at ${address.url}, SQLite (durability ${durability}) in ${dataDir}, abuse limits raised`);
  return { url: address.url, close: () => relayHandle.stop() };
}

process.on('message', (message: ToRelay) => {
  void (async () => {
    switch (message.type) {
      case 'start': {
        const notes: string[] = [];
        try {
          relay = await startRelay(message.dataDir, message.durability, notes);
          reply({ type: 'listening', url: relay.url, notes });
        } catch (error) {
          reply({ type: 'failed', reason: describe(error) });
        }
        break;
      }
      case 'stats': {
        const cpu = process.cpuUsage();
        reply({ type: 'stats', cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, rssBytes: process.memoryUsage().rss });
        break;
      }
      case 'stop':
        try {
          await relay?.close();
        } finally {
          reply({ type: 'stopped' });
          process.disconnect?.();
          process.exit(0);
        }
    }
  })();
});
process.on('disconnect', () => process.exit(0));
