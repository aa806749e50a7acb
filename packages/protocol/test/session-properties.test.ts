/**
 * Property tests of the session layer: loss, reordering, duplication, tampering, limits,
 * expiry, simultaneous initiation and purity. Sessions are set up once and reused: records
 * are immutable values, so every run starts from the same established pair.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createNobleBackend } from '@pigeon/crypto';
import {
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  MAX_SKIPPED_KEY_AGE_MS,
  ProtocolError,
  decodeSessionRecord,
  encodeDeviceKeys,
  encodeSessionRecord,
  initiateSession,
  sessionDecrypt,
  sessionEncrypt,
} from '../src/index.js';
import type { CiphertextMessage, SessionRecord } from '../src/index.js';
import { makeRecord, recordData } from '../src/session-record.js';
import { nextChainKey } from '../src/ratchet-kdf.js';
import { NOW, bundleOf, establish, expectCode, makeParty, receive, send } from './helpers.js';
import type { Party, Side } from './helpers.js';

const crypto = createNobleBackend();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

let alice: Party;
let bob: Party;
let established: { a: SessionRecord; b: SessionRecord };

before(async () => {
  alice = await makeParty(crypto);
  bob = await makeParty(crypto);
  const { a, b } = await establish(crypto, alice, bob);
  established = { a: a.record!, b: b.record! };
});

const op = fc.oneof(
  fc.record({ type: fc.constant('send' as const), fromA: fc.boolean() }),
  fc.record({
    type: fc.constant('deliver' as const),
    toA: fc.boolean(),
    pick: fc.nat(),
    mode: fc.constantFrom('deliver', 'deliver', 'deliver', 'duplicate', 'lose'),
  }),
);

describe('session properties', () => {
  it('loss, reordering and duplication: every non-lost message is delivered exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.boolean(), async (ops, fresh) => {
        // Half the runs start before the first reply, so prekey messages are in flight too.
        const a: Side = { party: alice, record: established.a };
        const b: Side = { party: bob, record: established.b };
        if (fresh) {
          a.record = await initiateSession(crypto, alice.device, undefined, bundleOf(bob), NOW);
          b.record = undefined;
        }
        type Flight = { text: string; message: CiphertextMessage; delivered: boolean };
        const toB: Flight[] = [];
        const toA: Flight[] = [];
        let counter = 0;
        const deliver = async (flight: Flight, toAlice: boolean): Promise<void> => {
          const [to, from] = toAlice ? [a, b] : [b, a];
          const before = to.record === undefined ? undefined : encodeSessionRecord(to.record);
          const msgCopy = flight.message.bytes.slice();
          if (flight.delivered) {
            await expectCode(receive(crypto, to, from, flight.message), 'DUPLICATE_MESSAGE');
            assert.deepEqual(to.record === undefined ? undefined : encodeSessionRecord(to.record), before);
          } else {
            assert.equal(await receive(crypto, to, from, flight.message), flight.text);
            flight.delivered = true;
          }
          assert.deepEqual(flight.message.bytes, msgCopy, 'input message mutated');
        };
        for (const o of ops) {
          if (o.type === 'send') {
            const side = o.fromA ? a : b;
            if (side.record === undefined) continue; // Bob cannot speak before Alice's first message arrives.
            const text = `m${counter++}`;
            (o.fromA ? toB : toA).push({ text, message: await send(crypto, side, text), delivered: false });
          } else {
            const queue = o.toA ? toA : toB;
            if (queue.length === 0) continue;
            const i = o.pick % queue.length;
            const flight = queue[i]!;
            if (o.mode === 'lose') queue.splice(i, 1);
            else {
              await deliver(flight, o.toA);
              if (o.mode === 'deliver') queue.splice(i, 1);
            }
          }
        }
        // Everything still in flight arrives eventually (including copies of delivered ones).
        for (const [queue, toAlice] of [[toB, false], [toA, true]] as const) {
          for (const flight of queue) await deliver(flight, toAlice);
        }
        // The records survive a round trip through their encoding.
        for (const side of [a, b]) {
          if (side.record === undefined) continue;
          const bytes = encodeSessionRecord(side.record);
          assert.deepEqual(encodeSessionRecord(decodeSessionRecord(bytes)), bytes);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a tampered, truncated or replayed message is rejected and leaves the record byte-identical', async () => {
    const a: Side = { party: alice, record: await initiateSession(crypto, alice.device, undefined, bundleOf(bob), NOW) };
    const b: Side = { party: bob, record: undefined };
    const firstPreKey = await send(crypto, a, 'first');
    await receive(crypto, b, a, firstPreKey);
    const preKeyMessage = await send(crypto, a, 'prekey'); // still a prekey message (no reply yet)
    const estA: Side = { party: alice, record: established.a };
    const whisper = await send(crypto, estA, 'whisper');
    const cases = [
      { message: preKeyMessage, record: b.record! },
      { message: whisper, record: established.b },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1),
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), bit: fc.nat() }),
          fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
          fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
        ),
        async (which, change) => {
          const { message, record } = cases[which]!;
          const bytes = message.bytes.slice();
          let tampered: Uint8Array;
          if (change.kind === 'flip') {
            const bit = change.bit % (bytes.length * 8);
            tampered = bytes.slice();
            tampered[bit >> 3]! ^= 1 << (bit & 7);
          } else if (change.kind === 'truncate') tampered = bytes.slice(0, change.length % bytes.length);
          else tampered = new Uint8Array([...bytes, ...change.extra]);
          const before = encodeSessionRecord(record);
          await assert.rejects(
            sessionDecrypt(crypto, bob.device, record, bob.store, alice.device.certificate, { kind: message.kind, bytes: tampered }, NOW),
            (e) => e instanceof ProtocolError,
          );
          assert.deepEqual(encodeSessionRecord(record), before);
        },
      ),
      { numRuns: 60 },
    );
    // Replay: the message decrypts once, then is a duplicate, and the record is unchanged by the replay.
    const once = await sessionDecrypt(crypto, bob.device, established.b, bob.store, alice.device.certificate, whisper, NOW);
    const before = encodeSessionRecord(once.record);
    await expectCode(sessionDecrypt(crypto, bob.device, once.record, bob.store, alice.device.certificate, whisper, NOW), 'DUPLICATE_MESSAGE');
    assert.deepEqual(encodeSessionRecord(once.record), before);
  });

  /** Alice's record with her sending chain advanced `steps` positions without sending. */
  async function aliceJumpedAhead(steps: number): Promise<SessionRecord> {
    const data = recordData(established.a);
    let chainKey = data.active!.sendingChainKey;
    for (let i = 0; i < steps; i++) chainKey = await nextChainKey(crypto, chainKey);
    const active = { ...data.active!, sendingChainKey: chainKey, sendingIndex: data.active!.sendingIndex + steps };
    return makeRecord({ remote: data.remote, active, previous: data.previous });
  }

  it('a forward jump above MAX_SKIP is refused cleanly; exactly MAX_SKIP is accepted; the session works afterwards', async () => {
    const over = await sessionEncrypt(crypto, await aliceJumpedAhead(MAX_SKIP + 1), enc('far'), NOW);
    const before = encodeSessionRecord(established.b);
    await expectCode(
      sessionDecrypt(crypto, bob.device, established.b, bob.store, alice.device.certificate, over.message, NOW),
      'TOO_MANY_SKIPPED',
    );
    assert.deepEqual(encodeSessionRecord(established.b), before);
    const a: Side = { party: alice, record: established.a };
    const b: Side = { party: bob, record: established.b };
    assert.equal(await receive(crypto, b, a, await send(crypto, a, 'still fine')), 'still fine');

    const edge = await sessionEncrypt(crypto, await aliceJumpedAhead(MAX_SKIP), enc('edge'), NOW);
    const r = await sessionDecrypt(crypto, bob.device, established.b, bob.store, alice.device.certificate, edge.message, NOW);
    assert.equal(dec(r.plaintext), 'edge');
    assert.equal(recordData(r.record).active!.skipped.length, MAX_SKIPPED_KEYS);
  });

  it('skipped keys expire after MAX_SKIPPED_KEY_AGE_MS and at most MAX_SKIPPED_KEYS are kept (oldest evicted)', async () => {
    const a: Side = { party: alice, record: established.a };
    const messages: CiphertextMessage[] = [];
    for (let i = 0; i < MAX_SKIPPED_KEYS + 2; i++) messages.push(await send(crypto, a, `n${i}`));
    const last = messages[messages.length - 1]!;
    const r = await sessionDecrypt(crypto, bob.device, established.b, bob.store, alice.device.certificate, last, NOW);
    assert.equal(recordData(r.record).active!.skipped.length, MAX_SKIPPED_KEYS);
    // Message 0 was evicted, message 1 is the oldest kept; message 2 expires.
    await expectCode(sessionDecrypt(crypto, bob.device, r.record, bob.store, alice.device.certificate, messages[0]!, NOW), 'DUPLICATE_MESSAGE');
    const one = await sessionDecrypt(crypto, bob.device, r.record, bob.store, alice.device.certificate, messages[1]!, NOW);
    assert.equal(dec(one.plaintext), 'n1');
    const atLimit = await sessionDecrypt(crypto, bob.device, r.record, bob.store, alice.device.certificate, messages[2]!, NOW + MAX_SKIPPED_KEY_AGE_MS);
    assert.equal(dec(atLimit.plaintext), 'n2');
    await expectCode(
      sessionDecrypt(crypto, bob.device, r.record, bob.store, alice.device.certificate, messages[2]!, NOW + MAX_SKIPPED_KEY_AGE_MS + 1),
      'DUPLICATE_MESSAGE',
    );
    // Expired keys are dropped from the state the next time a message is decrypted.
    const later = await sessionDecrypt(crypto, bob.device, r.record, bob.store, alice.device.certificate, await send(crypto, a, 'x'), NOW + MAX_SKIPPED_KEY_AGE_MS + 1);
    assert.equal(recordData(later.record).active!.skipped.length, 0);
  });

  it('simultaneous initiation converges on one session and every message decrypts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        async (countA, countB, order, later) => {
          const a: Side = { party: alice, record: await initiateSession(crypto, alice.device, undefined, bundleOf(bob), NOW) };
          const b: Side = { party: bob, record: await initiateSession(crypto, bob.device, undefined, bundleOf(alice), NOW) };
          const fromA: [string, CiphertextMessage][] = [];
          const fromB: [string, CiphertextMessage][] = [];
          for (let i = 0; i < countA; i++) fromA.push([`a${i}`, await send(crypto, a, `a${i}`)]);
          for (let i = 0; i < countB; i++) fromB.push([`b${i}`, await send(crypto, b, `b${i}`)]);
          // Messages cross: each side receives the other's prekey messages in a random interleaving.
          for (const pickA of order) {
            const queue = pickA || fromB.length === 0 ? fromA : fromB;
            const item = queue.shift();
            if (!item) continue;
            if (queue === fromA) assert.equal(await receive(crypto, b, a, item[1]), item[0]);
            else assert.equal(await receive(crypto, a, b, item[1]), item[0]);
          }
          for (const [text, m] of fromA) assert.equal(await receive(crypto, b, a, m), text);
          for (const [text, m] of fromB) assert.equal(await receive(crypto, a, b, m), text);
          // Each side has received from the other: both now use the same session.
          const activeBase = (s: Side) => recordData(s.record!).active!.baseKey;
          assert.deepEqual(activeBase(a), activeBase(b));
          // And it stays that way through more traffic, sent in both directions at once.
          for (const both of later) {
            const ma = await send(crypto, a, 'x');
            const mb = both ? await send(crypto, b, 'y') : null;
            assert.equal(await receive(crypto, b, a, ma), 'x');
            if (mb) assert.equal(await receive(crypto, a, b, mb), 'y');
            assert.deepEqual(activeBase(a), activeBase(b));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('session setup and sealing never mutate their inputs', async () => {
    const { encodePreKeyBundle, sealMessage, openSealedMessage, encodeSignedPreKey, encodeKemPreKey, encodeOneTimePreKey } = await import('../src/index.js');
    const bundle = bundleOf(bob);
    const snapshot = () => [
      encodePreKeyBundle(bundle),
      encodeDeviceKeys(alice.device),
      encodeDeviceKeys(bob.device),
      encodeSignedPreKey(bob.signed),
      encodeOneTimePreKey(bob.oneTime[0]!),
      encodeKemPreKey(bob.kemOneTime),
    ];
    const before = snapshot();
    const a: Side = { party: alice, record: await initiateSession(crypto, alice.device, undefined, bundle, NOW) };
    const m = await send(crypto, a, 'x');
    const envelope = await sealMessage(crypto, alice.device, bob.device.certificate, m);
    const envelopeCopy = envelope.slice();
    const opened = await openSealedMessage(crypto, bob.device, envelope, NOW);
    assert.deepEqual(envelope, envelopeCopy);
    await sessionDecrypt(crypto, bob.device, undefined, bob.store, opened.sender, opened.message, NOW);
    assert.deepEqual(snapshot(), before);
  });

  it('inputs are never mutated', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (plaintext) => {
        const plainCopy = plaintext.slice();
        const recordBefore = encodeSessionRecord(established.a);
        const keysBefore = encodeDeviceKeys(bob.device);
        const { record, message } = await sessionEncrypt(crypto, established.a, plaintext, NOW);
        assert.deepEqual(plaintext, plainCopy);
        assert.deepEqual(encodeSessionRecord(established.a), recordBefore);
        const messageCopy = message.bytes.slice();
        const bobBefore = encodeSessionRecord(established.b);
        const r = await sessionDecrypt(crypto, bob.device, established.b, bob.store, alice.device.certificate, message, NOW);
        assert.deepEqual(r.plaintext, plaintext);
        assert.deepEqual(message.bytes, messageCopy);
        assert.deepEqual(encodeSessionRecord(established.b), bobBefore);
        assert.deepEqual(encodeDeviceKeys(bob.device), keysBefore);
        assert.notEqual(record, established.a);
      }),
      { numRuns: 30 },
    );
  });
});
