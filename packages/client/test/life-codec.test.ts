import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TEXT_BYTES, MAX_TIMER_MS, decodeContent, decodeLifePayload, encodeContent, encodeLifePayload, quoteOf, MAX_QUOTE_CHARS } from '../src/index.js';
import type { LifePayload } from '../src/index.js';

const id = new Uint8Array(16).fill(3);
const samples: LifePayload[] = [
  { kind: 'text', text: 'hi', replyTo: null, quote: '', timerMs: 0 },
  { kind: 'text', text: 'answer', replyTo: id, quote: 'the question', timerMs: 60_000 },
  { kind: 'reaction', target: id, emoji: '👍🏽' },
  { kind: 'reaction', target: id, emoji: '' },
  { kind: 'edit', target: id, text: 'fixed' },
  { kind: 'delete', target: id },
  { kind: 'timer', timerMs: MAX_TIMER_MS },
  { kind: 'typing', on: true },
  { kind: 'token', deliveryToken: new Uint8Array(32).fill(1) },
  { kind: 'sync', to: new Uint8Array(16).fill(4), id, sentAt: 77, inner: new Uint8Array([3, 1]) },
];

describe('message-life payloads', () => {
  it('round-trip every kind, inside content type life', () => {
    for (const p of samples) {
      assert.deepEqual(decodeLifePayload(encodeLifePayload(p)), p);
      const content = decodeContent(encodeContent({ type: 'life', id, sentAt: 5, payload: encodeLifePayload(p) }));
      assert.equal(content.type, 'life');
      if (content.type === 'life') assert.deepEqual(decodeLifePayload(content.payload), p);
    }
  });

  it('refuses malformed input with BAD_ARGUMENT, never a crash', () => {
    for (const p of samples) {
      const bytes = encodeLifePayload(p);
      for (let cut = 0; cut < bytes.length; cut++) assert.throws(() => decodeLifePayload(bytes.subarray(0, cut)), { code: 'BAD_ARGUMENT' });
      assert.throws(() => decodeLifePayload(new Uint8Array([...bytes, 0])), { code: 'BAD_ARGUMENT' });
    }
    assert.throws(() => decodeLifePayload(new Uint8Array([99])), { code: 'BAD_ARGUMENT' });
    assert.throws(() => encodeLifePayload({ kind: 'timer', timerMs: MAX_TIMER_MS + 1 }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => encodeLifePayload({ kind: 'timer', timerMs: -1 }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => encodeLifePayload({ kind: 'edit', target: id, text: 'x'.repeat(MAX_TEXT_BYTES + 1) }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => encodeLifePayload({ kind: 'reaction', target: new Uint8Array(3), emoji: 'x' }), { code: 'BAD_ARGUMENT' });
  });

  it('cuts quotes at MAX_QUOTE_CHARS code points', () => {
    assert.equal(quoteOf('short'), 'short');
    const emoji = '😀'.repeat(MAX_QUOTE_CHARS + 5);
    assert.equal([...quoteOf(emoji)].length, MAX_QUOTE_CHARS);
  });
});
