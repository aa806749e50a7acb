/**
 * The group committer on its own, with a scripted sender instead of PostgreSQL: one batch per
 * shard at a time, the next made of what arrived meanwhile, outcomes only after the batch's
 * commit, issue order per key, and what a failed batch does to its writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayServerError } from '../src/errors.js';
import { GroupCommitter, type BatchSender } from '../src/store/postgres-group-commit.js';

interface Write {
  readonly key: string;
  readonly n: number;
}

/** A sender whose batches the test completes by hand (commit) or fails. */
class ScriptedSender implements BatchSender<Write, string> {
  readonly batches: { readonly shard: number; readonly items: readonly Write[]; commit(): void; fail(): void }[] = [];
  readonly alone: Write[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Writes with these keys fail when tried alone. */
  readonly poisoned = new Set<string>();

  key(w: Write): Buffer {
    return Buffer.from(w.key);
  }

  async one(_shard: number, w: Write): Promise<string> {
    this.alone.push(w);
    if (this.poisoned.has(w.key)) throw new Error('refused by the server');
    return `alone:${w.key}${w.n}`;
  }

  many(shard: number, items: readonly Write[]): Promise<string[]> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<string[]>((resolve, reject) => {
      this.batches.push({
        shard,
        items,
        commit: () => {
          this.inFlight--;
          resolve(items.map((w) => `${w.key}${w.n}`));
        },
        fail: () => {
          this.inFlight--;
          reject(new Error('batch failed'));
        },
      });
    });
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits (turn by turn, no timer) until the sender has received `count` batches. */
async function batchesSent(sender: ScriptedSender, count: number): Promise<void> {
  while (sender.batches.length < count) await turn();
}

/** Settled state of a promise, without waiting for it. */
function track<T>(p: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('group commit (postgres-group-commit.ts)', () => {
  it('sends one batch per shard at a time; writes arriving meanwhile form the next batch', async () => {
    // (A batch of one write goes to the server alone, through sender.one; these batches have two or more.)
    const sender = new ScriptedSender();
    const c = new GroupCommitter(sender);
    const first = [c.add(0, { key: 'a', n: 1 }), c.add(0, { key: 'b', n: 1 })];
    await batchesSent(sender, 1);
    // While batch 1 is at the server, ten more writes arrive over several turns.
    const later: Promise<string>[] = [];
    for (let i = 0; i < 10; i++) {
      later.push(c.add(0, { key: String.fromCharCode(107 - i), n: i }));
      await turn();
    }
    assert.equal(sender.batches.length, 1, 'no second batch while the first commits');
    sender.batches[0]!.commit();
    assert.deepStrictEqual(await Promise.all(first), ['a1', 'b1']);
    await batchesSent(sender, 2);
    assert.equal(sender.batches[1]!.items.length, 10, 'everything that waited goes in one batch');
    // Sorted by key, so concurrent batches of several nodes lock mailboxes in one order.
    const keys = sender.batches[1]!.items.map((w) => w.key);
    assert.deepStrictEqual(keys, [...keys].sort());
    sender.batches[1]!.commit();
    assert.equal((await Promise.all(later)).length, 10);
    assert.equal(sender.maxInFlight, 1);
    assert.deepStrictEqual(c.stats, { batches: 2, items: 12, failedBatches: 0 });
  });

  it('shards commit independently of each other', async () => {
    const sender = new ScriptedSender();
    const c = new GroupCommitter(sender);
    void c.add(0, { key: 'a', n: 1 });
    void c.add(0, { key: 'b', n: 1 });
    void c.add(1, { key: 'c', n: 1 });
    void c.add(1, { key: 'd', n: 1 });
    await batchesSent(sender, 2);
    assert.deepStrictEqual(sender.batches.map((b) => b.shard).sort(), [0, 1]);
    assert.equal(sender.maxInFlight, 2);
    for (const b of sender.batches) b.commit();
    await c.allSettled();
  });

  it('answers a write only after the commit of its batch', async () => {
    const sender = new ScriptedSender();
    const c = new GroupCommitter(sender);
    const writes = [track(c.add(0, { key: 'a', n: 1 })), track(c.add(0, { key: 'b', n: 2 }))];
    await batchesSent(sender, 1);
    for (let i = 0; i < 5; i++) await turn();
    assert.ok(writes.every((w) => !w.settled), 'nothing is answered before the commit returns');
    sender.batches[0]!.commit();
    await c.allSettled();
    assert.deepStrictEqual(
      writes.map((w) => w.value),
      ['a1', 'b2'],
    );
  });

  it('keeps the issue order of writes to one key, inside a batch and across batches', async () => {
    const sender = new ScriptedSender();
    const c = new GroupCommitter(sender, { maxItems: 4, maxWeight: Number.POSITIVE_INFINITY });
    const all = Array.from({ length: 10 }, (_, n) => c.add(0, { key: n % 2 === 0 ? 'x' : 'a', n }));
    for (let b = 0; b < 3; b++) {
      await batchesSent(sender, b + 1);
      sender.batches[b]!.commit();
    }
    await Promise.all(all);
    assert.deepStrictEqual(
      sender.batches.map((b) => b.items.length),
      [4, 4, 2],
      'maxBatch bounds a batch',
    );
    const order = (key: string) => sender.batches.flatMap((b) => b.items.filter((w) => w.key === key).map((w) => w.n));
    assert.deepStrictEqual(order('x'), [0, 2, 4, 6, 8]);
    assert.deepStrictEqual(order('a'), [1, 3, 5, 7, 9]);
  });

  it('bounds a batch by weight (bytes, rows); a write heavier than the bound goes alone', async () => {
    class Weighted extends ScriptedSender {
      weight(w: Write): number {
        return w.n;
      }
    }
    const sender = new Weighted();
    const c = new GroupCommitter(sender, { maxItems: 100, maxWeight: 10 });
    const all = [3, 3, 3, 20, 2, 2].map((n) => c.add(0, { key: 'k', n }));
    await batchesSent(sender, 1);
    sender.batches[0]!.commit();
    await batchesSent(sender, 2);
    sender.batches[1]!.commit();
    await Promise.all(all);
    assert.deepStrictEqual(
      sender.batches.map((b) => b.items.map((w) => w.n)),
      [
        [3, 3, 3],
        [2, 2],
      ],
    );
    assert.deepStrictEqual(
      sender.alone.map((w) => w.n),
      [20],
    );
  });

  it('a failed batch: every write is tried alone (per key in issue order); a write that still fails rejects with STORE_FAILED', async () => {
    const sender = new ScriptedSender();
    sender.poisoned.add('p');
    const c = new GroupCommitter(sender);
    const writes = [
      track(c.add(0, { key: 'b', n: 1 })),
      track(c.add(0, { key: 'p', n: 1 })),
      track(c.add(0, { key: 'b', n: 2 })),
      track(c.add(0, { key: 'a', n: 1 })),
    ];
    await batchesSent(sender, 1);
    sender.batches[0]!.fail();
    await c.allSettled();
    assert.deepStrictEqual(
      writes.map((w) => w.value),
      ['alone:b1', undefined, 'alone:b2', 'alone:a1'],
    );
    const error = writes[1]!.error;
    assert.ok(error instanceof RelayServerError && error.code === 'STORE_FAILED', 'typed error');
    assert.deepStrictEqual(
      sender.alone.filter((w) => w.key === 'b').map((w) => w.n),
      [1, 2],
    );
    assert.equal(c.stats.failedBatches, 1);
  });

  it('settled() waits for the writes issued before it, not for later ones', async () => {
    const sender = new ScriptedSender();
    const c = new GroupCommitter(sender);
    // Two writes per batch: a batch of one goes to the server alone (sender.one).
    const w = track(c.add(0, { key: 'a', n: 1 }));
    void c.add(0, { key: 'a', n: 2 });
    const barrier = c.settled(0);
    const barrierState = track(barrier);
    await batchesSent(sender, 1);
    const later = track(c.add(0, { key: 'b', n: 1 }));
    void c.add(0, { key: 'b', n: 2 });
    await turn();
    assert.equal(barrierState.settled, false);
    sender.batches[0]!.commit();
    await barrier;
    assert.ok(w.settled);
    assert.equal(later.settled, false);
    await batchesSent(sender, 2);
    sender.batches[1]!.commit();
    await c.allSettled();
    assert.ok(later.settled);
  });
});
