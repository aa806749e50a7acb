/** Smoke tests against defaultBackend() (the platform's fastest backend), and interop with noble. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNobleBackend, defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { computeSafetyNumber, openSealedMessage, sealMessage, sessionDecrypt } from '../src/index.js';
import { NOW, establish, expectCode, makeParty, receive, send } from './helpers.js';

const fast = defaultBackend();
const noble = createNobleBackend();

describe(`default backend (${fast.name})`, () => {
  it('sessions, sealed sender and safety numbers work', async () => {
    const alice = await makeParty(fast);
    const bob = await makeParty(fast);
    const { a, b } = await establish(fast, alice, bob);
    for (let i = 0; i < 5; i++) {
      assert.equal(await receive(fast, b, a, await send(fast, a, `a${i}`)), `a${i}`);
      assert.equal(await receive(fast, a, b, await send(fast, b, `b${i}`)), `b${i}`);
    }
    const m = await send(fast, a, 'sealed');
    const opened = await openSealedMessage(fast, bob.device, await sealMessage(fast, alice.device, bob.device.certificate, m), NOW);
    assert.deepEqual(opened.sender, alice.device.certificate);
    assert.equal(await receive(fast, b, a, opened.message), 'sealed');
    await expectCode(sessionDecrypt(fast, bob.device, b.record, bob.store, alice.device.certificate, opened.message, NOW), 'DUPLICATE_MESSAGE');
    const s = await computeSafetyNumber(fast, { accountKey: alice.account.signing.publicKey }, { accountKey: bob.account.signing.publicKey });
    assert.equal(s.digits.length, 60);
  });

  it('interoperates with the noble backend (each side on a different backend)', async () => {
    const alice = await makeParty(noble);
    const bob = await makeParty(fast);
    const mixed: CryptoBackend[] = [noble, fast];
    const { a, b } = await establish(noble, alice, bob); // setup math is backend-independent
    for (let i = 0; i < 4; i++) {
      const x = mixed[i % 2]!;
      const y = mixed[(i + 1) % 2]!;
      assert.equal(await receive(y, b, a, await send(x, a, `a${i}`)), `a${i}`);
      assert.equal(await receive(x, a, b, await send(y, b, `b${i}`)), `b${i}`);
    }
    const s1 = await computeSafetyNumber(noble, { accountKey: alice.account.signing.publicKey }, { accountKey: bob.account.signing.publicKey });
    const s2 = await computeSafetyNumber(fast, { accountKey: bob.account.signing.publicKey }, { accountKey: alice.account.signing.publicKey });
    assert.equal(s1.digits, s2.digits);
  });
});
