/**
 * /healthz: is this node able to do its work? The store must answer (every shard); the bus must
 * answer when it is a network bus. A node whose bus is down still serves (sweeps deliver), but
 * reports 503 so an operator's monitoring sees the degradation; load balancers should use a TCP
 * check or the public port, not this, to decide where to send clients (docs/operations.md).
 */
import type { RelayBus } from './bus/types.js';
import type { RelayStore } from './store/types.js';

/** How long one probe may take before it counts as down. */
export const HEALTH_PROBE_TIMEOUT_MS = 2000;
/** Random keys tried to find one that lands on each shard of a sharded store. */
const SHARD_PROBE_ATTEMPTS = 256;

export interface HealthReport {
  readonly ok: boolean;
  readonly store: 'ok' | 'down';
  readonly bus: 'ok' | 'down';
  readonly busKind: 'local' | 'redis';
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Shape of a sharded store (PostgresRelayStore) that lets the probe reach every shard. */
interface ShardedStore {
  readonly shards: readonly unknown[];
  shardOf(key: Uint8Array): number;
}

function isSharded(store: RelayStore): store is RelayStore & ShardedStore {
  const s = store as Partial<ShardedStore>;
  return Array.isArray(s.shards) && typeof s.shardOf === 'function';
}

/** A cheap read on every shard: the existence of an account id nobody has. */
async function probeStore(store: RelayStore): Promise<void> {
  if (store.ping) return store.ping();
  const keys: Uint8Array[] = [];
  if (isSharded(store)) {
    const seen = new Set<number>();
    for (let i = 0; i < SHARD_PROBE_ATTEMPTS && seen.size < store.shards.length; i++) {
      const key = new Uint8Array(16);
      new DataView(key.buffer).setUint32(12, i);
      const shard = store.shardOf(key);
      if (!seen.has(shard)) {
        seen.add(shard);
        keys.push(key);
      }
    }
  } else {
    keys.push(new Uint8Array(16));
  }
  await Promise.all(keys.map((k) => store.accountExists(k)));
}

export async function checkHealth(store: RelayStore, bus: RelayBus, timeoutMs = HEALTH_PROBE_TIMEOUT_MS): Promise<HealthReport> {
  const [storeOk, busOk] = await Promise.all([
    withTimeout(probeStore(store), timeoutMs).then(
      () => true,
      () => false,
    ),
    bus.ping(timeoutMs),
  ]);
  return { ok: storeOk && busOk, store: storeOk ? 'ok' : 'down', bus: busOk ? 'ok' : 'down', busKind: bus.status().kind };
}
