import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toBase64Url } from '@pigeon/crypto';
import {
  INVITE_LINK_PREFIX,
  MAX_INVITE_LINK_CHARS,
  MAX_NAME_BYTES,
  MAX_RECEIPT_IDS,
  MAX_TEXT_BYTES,
  CONTENT_VERSION,
  backoffDelay,
  decodeContent,
  decodeInviteLink,
  encodeContent,
  encodeInviteLink,
  normalizeRelayUrl,
} from '../src/index.js';
import type { Content, Invite } from '../src/index.js';

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const invite: Invite = {
  relayUrl: 'ws://127.0.0.1:7878/pigeon',
  accountKey: bytes(32, 1),
  deliveryToken: bytes(32, 2),
  displayName: 'Аня',
  inviteSecret: bytes(16, 3),
};

describe('content codec', () => {
  const samples: Content[] = [
    { type: 'text', id: bytes(16), sentAt: 1_700_000_000_000, text: 'привет 👋' },
    { type: 'receipt', id: bytes(16), sentAt: 5, ids: [bytes(16, 1), bytes(16, 2)] },
    { type: 'read', id: bytes(16), sentAt: 6, ids: [bytes(16, 3)] },
    { type: 'introduction', id: bytes(16), sentAt: 5, displayName: 'Bob', deliveryToken: bytes(32), relayUrl: 'wss://r.example/p', inviteSecret: bytes(16) },
  ];
  for (const c of samples) {
    it(`round-trips a ${c.type}`, () => assert.deepEqual(decodeContent(encodeContent(c)), c));
  }

  it('adds read receipts compatibly: same version, a new type number, the receipt body', () => {
    const receipt = encodeContent({ type: 'receipt', id: bytes(16), sentAt: 5, ids: [bytes(16, 1)] });
    const read = encodeContent({ type: 'read', id: bytes(16), sentAt: 5, ids: [bytes(16, 1)] });
    assert.equal(receipt[0], CONTENT_VERSION);
    assert.equal(read[0], CONTENT_VERSION);
    assert.equal(receipt[1], 2, 'delivery receipts keep type 2');
    assert.equal(read[1], 4);
    assert.deepEqual(read.slice(2), receipt.slice(2));
    const ids = Array.from({ length: MAX_RECEIPT_IDS + 1 }, () => bytes(16));
    assert.throws(() => encodeContent({ type: 'read', id: bytes(16), sentAt: 1, ids }), { code: 'BAD_ARGUMENT' });
  });

  it('round-trips any text within MAX_TEXT_BYTES', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.nat(), (text, sentAt) => {
        const c: Content = { type: 'text', id: bytes(16), sentAt, text };
        assert.deepEqual(decodeContent(encodeContent(c)), c);
      }),
    );
  });

  it('enforces MAX_TEXT_BYTES and MAX_RECEIPT_IDS', () => {
    const ok: Content = { type: 'text', id: bytes(16), sentAt: 1, text: 'a'.repeat(MAX_TEXT_BYTES) };
    assert.equal(decodeContent(encodeContent(ok)).type, 'text');
    assert.throws(() => encodeContent({ ...ok, text: 'a'.repeat(MAX_TEXT_BYTES + 1) }), { code: 'BAD_ARGUMENT' });
    const ids = Array.from({ length: MAX_RECEIPT_IDS + 1 }, () => bytes(16));
    assert.throws(() => encodeContent({ type: 'receipt', id: bytes(16), sentAt: 1, ids }), { code: 'BAD_ARGUMENT' });
  });

  it('rejects malformed input with BAD_ARGUMENT, never a crash', () => {
    const good = encodeContent(samples[0]!);
    assert.throws(() => decodeContent(new Uint8Array()), { code: 'BAD_ARGUMENT' });
    assert.throws(() => decodeContent(new Uint8Array([...good, 0])), { code: 'BAD_ARGUMENT' });
    assert.throws(() => decodeContent(new Uint8Array([9, ...good.slice(1)])), { code: 'BAD_ARGUMENT' });
    assert.throws(() => decodeContent(new Uint8Array([1, 99, ...good.slice(2)])), { code: 'BAD_ARGUMENT' });
    for (let cut = 0; cut < good.length; cut++) assert.throws(() => decodeContent(good.slice(0, cut)), { code: 'BAD_ARGUMENT' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        try {
          decodeContent(junk);
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'BAD_ARGUMENT');
        }
      }),
    );
  });
});

describe('invite links', () => {
  it('round-trip', () => {
    const link = encodeInviteLink(invite);
    assert.ok(link.startsWith(INVITE_LINK_PREFIX));
    assert.deepEqual(decodeInviteLink(link), invite);
    assert.deepEqual(decodeInviteLink(`  ${link}\n`), invite);
  });

  it('rejects every malformed link with BAD_LINK', () => {
    const link = encodeInviteLink(invite);
    const payload = link.slice(INVITE_LINK_PREFIX.length);
    const bad = [
      '',
      'hello',
      'https://example.com/invite/abc',
      INVITE_LINK_PREFIX,
      INVITE_LINK_PREFIX + '!!!',
      INVITE_LINK_PREFIX + payload.slice(0, -3),
      INVITE_LINK_PREFIX + payload + 'AAAA',
      INVITE_LINK_PREFIX + 'Ag' + payload.slice(2),
      INVITE_LINK_PREFIX + 'A'.repeat(MAX_INVITE_LINK_CHARS),
      encodeInviteLink({ ...invite, relayUrl: 'ftp://nope' }),
      encodeInviteLink({ ...invite, deliveryToken: bytes(4) }),
    ];
    for (const l of bad) assert.throws(() => decodeInviteLink(l), { code: 'BAD_LINK' }, JSON.stringify(l.slice(0, 40)));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeInviteLink(INVITE_LINK_PREFIX + toBase64Url(junk));
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'BAD_LINK');
        }
      }),
    );
  });

  it('limits the display name to MAX_NAME_BYTES', () => {
    assert.throws(() => encodeInviteLink({ ...invite, displayName: 'x'.repeat(MAX_NAME_BYTES + 1) }));
  });
});

describe('relay URLs', () => {
  it('normalises http(s) to ws(s) and refuses other schemes', () => {
    assert.equal(normalizeRelayUrl('http://h:1/pigeon'), 'ws://h:1/pigeon');
    assert.equal(normalizeRelayUrl('https://h/pigeon'), 'wss://h/pigeon');
    assert.equal(normalizeRelayUrl(' ws://h:2/p '), 'ws://h:2/p');
    for (const bad of ['', 'h:1', 'ftp://h/', 'ws://user:pw@h/']) assert.throws(() => normalizeRelayUrl(bad), { code: 'BAD_ARGUMENT' });
  });
});

describe('reconnect backoff', () => {
  const opts = (r: number) => ({ baseMs: 100, maxMs: 10_000, random: () => r });
  it('grows exponentially with equal jitter and caps at maxMs', () => {
    assert.equal(backoffDelay(0, opts(0)), 50);
    assert.equal(backoffDelay(0, opts(0.999999)), 100);
    assert.equal(backoffDelay(3, opts(0)), 400);
    assert.equal(backoffDelay(50, opts(0)), 5_000);
    assert.ok(backoffDelay(50, opts(0.999999)) <= 10_000);
  });
  it('stays within [exp/2, exp] for any random value', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, opts(r));
        const exp = Math.min(10_000, 100 * 2 ** attempt);
        assert.ok(d >= exp / 2 - 1 && d <= exp);
      }),
    );
  });
});
