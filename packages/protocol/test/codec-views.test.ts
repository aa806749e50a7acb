/**
 * Zero-copy decoding: Reader views, Writer handing over an exactly full buffer, and session
 * records that never alias the caller's bytes (decodeSessionRecord decodes from its own copy).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNobleBackend, toHex } from '@pigeon/crypto';
import { Reader, Writer, decodeSessionRecord, encodeSessionRecord, sessionDecrypt, sessionEncrypt } from '../src/index.js';
import { NOW, establish, expectCode, makeParty, receive, send } from './helpers.js';

const crypto = createNobleBackend();

describe('Reader views', () => {
  it('fixedView/bytesView share the input; fixed/bytes copy it', () => {
    const input = new Uint8Array([1, 2, 3, 0, 0, 0, 2, 9, 8]);
    const views = new Reader(input);
    const a = views.fixedView(3);
    const b = views.bytesView(2);
    views.end();
    const copies = new Reader(input);
    const c = copies.fixed(3);
    const d = copies.bytes(2);
    input[0] = 7;
    input[7] = 6;
    assert.deepEqual([...a], [7, 2, 3]);
    assert.deepEqual([...b], [6, 8]);
    assert.deepEqual([...c], [1, 2, 3]);
    assert.deepEqual([...d], [9, 8]);
  });

  it('views keep the bounds checks', async () => {
    await expectCode(() => new Reader(new Uint8Array(2)).fixedView(3), 'TRUNCATED');
    await expectCode(() => new Reader(new Uint8Array([0, 0, 0, 5, 1])).bytesView(4), 'FIELD_TOO_LARGE');
    await expectCode(() => new Reader(new Uint8Array([0, 0, 0, 2, 1])).bytesView(4), 'TRUNCATED');
  });
});

describe('Writer.finish', () => {
  it('hands over an exactly full buffer, copies otherwise, and later writes never reach returned bytes', () => {
    const w = new Writer(4).u32(0x01020304);
    const exact = w.finish();
    assert.equal(exact.byteLength, exact.buffer.byteLength);
    w.u8(5);
    assert.deepEqual([...exact], [1, 2, 3, 4]);
    assert.deepEqual([...w.finish()], [1, 2, 3, 4, 5]);
    const loose = new Writer(16).u8(1).finish();
    assert.equal(loose.buffer.byteLength, 1);
  });
});

describe('session record bytes', () => {
  it('encodes to an exactly sized buffer and never aliases the caller\'s input', async () => {
    const alice = await makeParty(crypto);
    const bob = await makeParty(crypto);
    const { a, b } = await establish(crypto, alice, bob);
    const stored = encodeSessionRecord(a.record!);
    assert.equal(stored.byteLength, stored.buffer.byteLength);
    const original = toHex(stored);
    const record = decodeSessionRecord(stored);
    stored.fill(0xee); // the caller reuses its buffer
    assert.equal(toHex(encodeSessionRecord(record)), original);
    const { record: next, message } = await sessionEncrypt(crypto, record, new TextEncoder().encode('after reuse'), NOW);
    const r = await sessionDecrypt(crypto, bob.device, b.record, bob.store, alice.device.certificate, message, NOW);
    assert.equal(new TextDecoder().decode(r.plaintext), 'after reuse');
    assert.equal(toHex(encodeSessionRecord(record)), original, 'encrypting did not touch the decoded record');
    b.record = r.record;
    a.record = next;
    assert.equal(await receive(crypto, a, b, await send(crypto, b, 'reply')), 'reply');
  });
});
