/**
 * The receiving client killed with SIGKILL while messages arrive, restarted on the same profile
 * each time (the complement of client-crash.test.ts). The client acks to the relay only after
 * its commit, so a kill before the commit means a redelivery, and one after it a duplicate the
 * client drops. Asserted: the conversation stored in the receiver's profile is exactly the sent
 * messages, and no 'message' event is ever emitted twice across all the receiver's lives.
 *
 * Reported, not asserted: a kill between the commit and the 'message' event means that message
 * is never announced by an event (it is in the history and unread, which is what an app shows
 * on start-up; `pigeon listen` leaves it for `pigeon inbox`).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makePair, readConversation } from '../src/support/pair.js';
import { duplicates, ids, isMessage, isQueued, startReceiver } from '../src/support/logs.js';
import { LiveProcess, SENDER_DRIVER, killAll, startRelay, tempDir } from '../src/support/processes.js';

const MESSAGES = 60;
const SEND_DELAY_MS = 15;
/** Receiver lives that end in SIGKILL, each after this many new 'message' events. */
const KILLS = [1, 4, 2, 7];

describe('a receiving client killed mid-receive', () => {
  const dir = tempDir('receiver-crash');
  after(async () => {
    await killAll();
    dir.remove();
  });

  it(`stores every message exactly once and never announces one twice (${KILLS.length} kills)`, async (t) => {
    const relay = await startRelay(join(dir.path, 'relay-data'));
    const pair = await makePair(relay.url, dir.path);
    const sender = new LiveProcess('sender', SENDER_DRIVER, [
      '--home', pair.bobHome, '--contact', 'Alice', '--count', String(MESSAGES), '--delay-ms', String(SEND_DELAY_MS), '--prefix', 'm',
    ]);

    const announced: string[] = [];
    for (const [life, after] of KILLS.entries()) {
      const receiver = startReceiver(`receiver life ${life + 1}`, pair.aliceHome);
      await receiver.waitUntil(`${after} messages`, () => receiver.count(isMessage) >= after);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 10))); // vary the kill point
      await receiver.kill('SIGKILL');
      announced.push(...ids(receiver.events, isMessage));
    }
    await sender.waitForEvent('the sender flushed', (e) => e.event === 'flushed');
    const sent = ids(sender.events, isQueued);
    assert.equal(sent.length, MESSAGES);

    const last = startReceiver('receiver (last life)', pair.aliceHome);
    await last.waitForEvent('synced', (e) => e.event === 'synced');
    await last.kill('SIGTERM');
    announced.push(...ids(last.events, isMessage));

    const stored = (await readConversation(pair.aliceHome)).filter((m) => m.direction === 'in');
    assert.deepEqual(duplicates(stored.map((m) => m.id)), [], 'a message was stored twice');
    assert.deepEqual(stored.map((m) => m.id).sort(), [...sent].sort(), 'the receiver stored exactly the sent messages');
    assert.deepEqual(duplicates(announced), [], "a 'message' event was emitted twice");
    const storedIds = new Set(stored.map((m) => m.id));
    for (const id of announced) assert.ok(storedIds.has(id));
    const silent = sent.length - new Set(announced).size;
    t.diagnostic(`${MESSAGES} stored exactly once; ${announced.length} announced by an event; ${silent} stored without an event (killed between commit and emit)`);
    await relay.proc.kill('SIGTERM');
  });
});
