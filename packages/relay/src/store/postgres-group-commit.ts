/**
 * Group commit for the PostgreSQL store: per shard, at most ONE batch is at the server at a time,
 * and whatever arrives while it commits becomes the next batch. Under load the batches grow by
 * themselves (no timer, no fixed window): a slow commit means a bigger next batch, so statements,
 * transactions, fsyncs and round trips per message fall as the load rises, and an idle relay pays
 * only one event-loop turn (setImmediate collects the writes of the current turn).
 *
 * Guarantees (postgres-store.ts relies on them):
 * - A write's promise resolves after the transaction holding it committed (never earlier).
 * - Writes to one key (mailbox) apply in issue order: batches of a shard run one after another,
 *   a batch takes the oldest waiting writes, and the sort by key is stable.
 * - Batches are sorted by key, so batches from several relay nodes (and the sweep) lock
 *   mailboxes in the same order and cannot deadlock.
 * - A batch is one transaction: when it fails nothing of it is visible. Its writes are then
 *   retried alone (per key in issue order), so a write that cannot commit fails only itself;
 *   each write that still fails rejects with STORE_FAILED (the client retries the same
 *   message id, which is idempotent).
 */
import { RelayServerError } from '../errors.js';

export interface BatchSender<I, O> {
  /** Sort key of a write (the mailbox): locks are taken in this order. */
  key(item: I): Buffer;
  /** One write in its own transaction (retries after a failed batch). */
  one(shard: number, item: I): Promise<O>;
  /** One transaction for all; outcomes in the order of `items` (already sorted by key). */
  many(shard: number, items: readonly I[]): Promise<O[]>;
  /** Size of a write (bytes sent, or rows asked for) counted against `maxWeight`; 1 if absent. */
  weight?(item: I): number;
}

export interface BatchLimits {
  /** Writes per batch at most; 1 sends every write in its own transaction (still in issue order). */
  readonly maxItems: number;
  /** Total weight per batch at most (a heavier single write still goes, alone). */
  readonly maxWeight: number;
}

/** Writes per batch at most: bounds one statement's size and how long it holds its locks. */
export const DEFAULT_MAX_BATCH = 512;
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxItems: DEFAULT_MAX_BATCH, maxWeight: Number.POSITIVE_INFINITY };

interface Entry<I, O> {
  readonly item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

interface ShardQueue<I, O> {
  waiting: Entry<I, O>[];
  /** A batch is at the server, or a flush is scheduled. */
  busy: boolean;
  /** Settles after the last write added so far has settled (batches run in order). */
  tail: Promise<void>;
}

export interface GroupCommitterStats {
  /** Batches sent, writes in them, batches that failed as a whole. */
  batches: number;
  items: number;
  failedBatches: number;
}

export class GroupCommitter<I, O> {
  private readonly queues = new Map<number, ShardQueue<I, O>>();
  readonly stats: GroupCommitterStats = { batches: 0, items: 0, failedBatches: 0 };

  constructor(
    private readonly sender: BatchSender<I, O>,
    private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS,
  ) {}

  add(shard: number, item: I): Promise<O> {
    let queue = this.queues.get(shard);
    if (queue === undefined) this.queues.set(shard, (queue = { waiting: [], busy: false, tail: Promise.resolve() }));
    const q = queue;
    const result = new Promise<O>((resolve, reject) => {
      q.waiting.push({ item, resolve, reject });
    });
    q.tail = result.then(
      () => undefined,
      () => undefined,
    );
    if (!q.busy) {
      q.busy = true;
      // The writes of this event-loop turn go together.
      setImmediate(() => this.next(shard, q));
    }
    return result;
  }

  /** Settles once every write added to this shard so far has settled. */
  settled(shard: number): Promise<void> {
    return this.queues.get(shard)?.tail ?? Promise.resolve();
  }

  /** Settles once every write added so far (all shards) has settled. */
  async allSettled(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  private next(shard: number, q: ShardQueue<I, O>): void {
    if (q.waiting.length === 0) {
      q.busy = false;
      return;
    }
    // The oldest waiting writes, up to the limits (at least one).
    let count = 0;
    let weight = 0;
    while (count < q.waiting.length && count < this.limits.maxItems) {
      const w = this.sender.weight?.(q.waiting[count]!.item) ?? 1;
      if (count > 0 && weight + w > this.limits.maxWeight) break;
      weight += w;
      count++;
    }
    const batch = count === q.waiting.length ? q.waiting : q.waiting.slice(0, count);
    q.waiting = count === q.waiting.length ? [] : q.waiting.slice(count);
    // While this batch commits, later writes wait in q.waiting: they are the next batch.
    void this.send(shard, batch).finally(() => this.next(shard, q));
  }

  private async send(shard: number, batch: Entry<I, O>[]): Promise<void> {
    this.stats.batches++;
    this.stats.items += batch.length;
    if (batch.length === 1) {
      await this.alone(shard, batch);
      return;
    }
    // Stable: writes to one key keep their issue order.
    const sorted = batch.slice().sort((x, y) => Buffer.compare(this.sender.key(x.item), this.sender.key(y.item)));
    let outcomes: O[];
    try {
      outcomes = await this.sender.many(
        shard,
        sorted.map((e) => e.item),
      );
      if (outcomes.length !== sorted.length) throw new Error('a batch returned the wrong number of outcomes');
    } catch {
      // Nothing of the failed batch committed (one transaction): each write is tried alone.
      this.stats.failedBatches++;
      const byKey = new Map<string, Entry<I, O>[]>();
      for (const e of sorted) {
        const k = this.sender.key(e.item).toString('hex');
        const list = byKey.get(k);
        if (list === undefined) byKey.set(k, [e]);
        else list.push(e);
      }
      await Promise.all([...byKey.values()].map((entries) => this.alone(shard, entries)));
      return;
    }
    sorted.forEach((e, i) => e.resolve(outcomes[i]!));
  }

  /** Each write in its own transaction, one after another (they share a key, or there is one). */
  private async alone(shard: number, entries: readonly Entry<I, O>[]): Promise<void> {
    for (const e of entries) {
      try {
        e.resolve(await this.sender.one(shard, e.item));
      } catch (error) {
        e.reject(error instanceof RelayServerError ? error : new RelayServerError('STORE_FAILED', 'the database did not complete the operation', { cause: error }));
      }
    }
  }
}
