/**
 * Group commit for the PostgreSQL store's mailbox writes, as the SQLite store does it: the writes
 * of one kind issued in one event-loop turn go to each shard as one call (one transaction, one
 * commit, one round trip). Under load this is what keeps PostgreSQL's per-statement CPU cost from
 * capping throughput (STORE-POSTGRES.md, "Performance").
 *
 * Batches are sorted by mailbox key, so batches from several relay nodes (and the sweep) lock
 * mailboxes in the same order and cannot deadlock. If a batch fails, its writes are retried one by
 * one, so a failure belongs to the write that caused it and the others still get their outcome.
 */

export interface BatchSender<I, O> {
  /** Mailbox key of a write: the sort key of the batch. */
  key(item: I): Buffer;
  one(shard: number, item: I): Promise<O>;
  /** Outcomes in the order of `items` (already sorted by key). */
  many(shard: number, items: readonly I[]): Promise<O[]>;
}

interface Entry<I, O> {
  readonly item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export class GroupCommitter<I, O> {
  private queues = new Map<number, Entry<I, O>[]>();
  private scheduled = false;

  /** enabled=false sends every write on its own (lower latency when idle, more commits). */
  constructor(
    private readonly sender: BatchSender<I, O>,
    private readonly enabled: boolean,
  ) {}

  add(shard: number, item: I): Promise<O> {
    if (!this.enabled) return this.sender.one(shard, item);
    return new Promise<O>((resolve, reject) => {
      let queue = this.queues.get(shard);
      if (queue === undefined) this.queues.set(shard, (queue = []));
      queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queues = this.queues;
    this.queues = new Map();
    for (const [shard, queue] of queues) void this.send(shard, queue);
  }

  private async send(shard: number, queue: Entry<I, O>[]): Promise<void> {
    const one = async (e: Entry<I, O>) => {
      try {
        e.resolve(await this.sender.one(shard, e.item));
      } catch (error) {
        e.reject(error);
      }
    };
    if (queue.length === 1) return one(queue[0]!);
    queue.sort((x, y) => Buffer.compare(this.sender.key(x.item), this.sender.key(y.item)));
    let outcomes: O[];
    try {
      outcomes = await this.sender.many(
        shard,
        queue.map((e) => e.item),
      );
      if (outcomes.length !== queue.length) throw new Error('a batch returned the wrong number of outcomes');
    } catch {
      // Nothing of a failed batch committed (one transaction): retry each write alone.
      await Promise.all(queue.map(one));
      return;
    }
    queue.forEach((e, i) => e.resolve(outcomes[i]!));
  }
}
