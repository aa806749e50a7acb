/**
 * A client killed mid-send (SIGKILL at several points) and restarted on the same profile:
 * the receiver gets every message whose send() was committed to the sender's profile exactly
 * once, and nothing that was never committed (issue 2, "Tests it must have").
 *
 * What was committed is read from the sender's own profile with the SDK after the run: a
 * SIGKILL can land after the commit but before the driver printed it, so the driver's log is a
 * lower bound and the profile is the truth.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makePair, readConversation } from '../src/support/pair.js';
import { assertNothingRedelivered, duplicates, ids, isMessage, isQueued, isSentStatus, startReceiver } from '../src/support/logs.js';
import type { DriverEvent } from '../src/support/logs.js';
import { LiveProcess, SENDER_DRIVER, killAll, startRelay, tempDir } from '../src/support/processes.js';

/** Sends each round's sender would make if it were not killed. */
const SENDS_PER_ROUND = 40;

interface Round {
  /** When to SIGKILL the sender: after this event count. */
  readonly what: string;
  readonly ready: (events: readonly DriverEvent[]) => boolean;
  readonly delayMs: number;
}

const queuedAtLeast = (n: number) => (events: readonly DriverEvent[]) => events.filter(isQueued).length >= n;

/** Kill points: at start-up (flushing the previous round's outbox), right after the first sends, mid-stream, after acks. */
const ROUNDS: readonly Round[] = [
  { what: 'start-up', ready: (events) => events.some((e) => e.event === 'started'), delayMs: 0 },
  { what: '1 queued', ready: queuedAtLeast(1), delayMs: 0 },
  { what: 'start-up (flushing)', ready: (events) => events.some((e) => e.event === 'started'), delayMs: 0 },
  { what: '3 queued', ready: queuedAtLeast(3), delayMs: 0 },
  { what: '9 queued', ready: queuedAtLeast(9), delayMs: 3 },
  { what: '4 relay acks', ready: (events) => events.filter(isSentStatus).length >= 4, delayMs: 0 },
  { what: '17 queued', ready: queuedAtLeast(17), delayMs: 1 },
];

describe('a client killed mid-send', () => {
  const dir = tempDir('client-crash');
  after(async () => {
    await killAll();
    dir.remove();
  });

  it(`resends on restart without duplicates or inventions (${ROUNDS.length} kills)`, async (t) => {
    const relay = await startRelay(join(dir.path, 'relay-data'));
    const pair = await makePair(relay.url, dir.path);
    const receiver = startReceiver('receiver', pair.aliceHome);
    await receiver.waitForEvent('the first sync', (e) => e.event === 'synced');

    const printedQueued: string[] = [];
    const sender = (label: string, count: number, delayMs: number, prefix: string) =>
      new LiveProcess(label, SENDER_DRIVER, ['--home', pair.bobHome, '--contact', 'Alice', '--count', String(count), '--delay-ms', String(delayMs), '--prefix', prefix]);

    for (const [index, round] of ROUNDS.entries()) {
      const s = sender(`sender round ${index + 1}`, SENDS_PER_ROUND, round.delayMs, `r${index + 1}-`);
      await s.waitUntil(`kill point "${round.what}"`, () => round.ready(s.events));
      // A random extra moment, so the kill does not always land on the same step of send().
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)));
      await s.kill('SIGKILL');
      printedQueued.push(...ids(s.events, isQueued));
      t.diagnostic(`round ${index + 1}: killed after "${round.what}" with ${s.count(isQueued)} queued / ${s.count(isSentStatus)} acked printed`);
    }

    const last = sender('sender (final flush)', 0, 0, 'unused-');
    await last.waitForEvent('the final flush', (e) => e.event === 'flushed');
    assert.deepEqual(await last.exited, { code: 0, signal: null });

    const persisted = (await readConversation(pair.bobHome)).filter((m) => m.direction === 'out');
    const persistedIds = new Set(persisted.map((m) => m.id));
    for (const id of printedQueued) assert.ok(persistedIds.has(id), 'a send() that resolved is missing from the profile');
    for (const m of persisted) assert.ok(m.state !== 'queued' && m.state !== 'failed', `message ${m.text} is ${m.state} after the flush`);
    assert.ok(persisted.length > 0);

    await receiver.waitUntil(`all ${persisted.length} persisted messages`, () => {
      const got = new Set(ids(receiver.events, isMessage));
      return persisted.every((m) => got.has(m.id));
    });
    // Anything still in flight would have reached the receiver together with the last of them.
    const received = ids(receiver.events, isMessage);
    assert.deepEqual(duplicates(received), [], 'the application saw a message twice');
    assert.deepEqual([...new Set(received)].sort(), [...persistedIds].sort(), 'the receiver got exactly the persisted messages');
    t.diagnostic(`${persisted.length} messages persisted (${printedQueued.length} printed before the kills), all received exactly once`);

    await receiver.kill('SIGTERM');
    const incoming = (await readConversation(pair.aliceHome)).map((m) => m.id).sort();
    assert.deepEqual(incoming, [...persistedIds].sort());
    await assertNothingRedelivered(pair.aliceHome);
    await relay.proc.kill('SIGTERM');
  });
});
