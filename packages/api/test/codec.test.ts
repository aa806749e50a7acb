import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeClientFrame, decodeRelayFrame, encodeClientFrame, encodeRelayFrame } from '../src/codec.js';
import { ApiDecodeError } from '../src/decode-error.js';
import { RelayError, type RelayErrorCode } from '../src/errors.js';
import { CLIENT_FRAME_TYPES, RELAY_FRAME_TYPES } from '../src/frame-types.js';
import { API_VERSION, type ClientFrame, type RelayFrame } from '../src/frames.js';
import {
  ID_BYTES,
  KEM_PREKEY_BYTES,
  MAX_ACK_IDS,
  MAX_DELIVERY_TOKEN_BYTES,
  MAX_DEVICE_LIST_BYTES,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_BUNDLE_BYTES,
  MAX_PROVISIONING_ENVELOPE_BYTES,
  MAX_ENVELOPE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  MAX_PREKEYS_PER_UPLOAD,
  MAX_TOKENS_PER_REQUEST,
  MIN_DELIVERY_TOKEN_BYTES,
  SIGNATURE_BYTES,
  X25519_PREKEY_BYTES,
} from '../src/limits.js';
import { anyClientFrame, anyRelayFrame, clientFrames, relayFrames } from './arbitraries.js';

function assertCode(fn: () => unknown, code: RelayErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof RelayError && e.code === code);
}

function assertDecodeCode(fn: () => unknown, code: RelayErrorCode, requestId?: number): void {
  assert.throws(fn, (e: unknown) => e instanceof ApiDecodeError && e.code === code && (requestId === undefined || e.requestId === requestId));
}

const zeros = (n: number) => new Uint8Array(n);

describe('client frames', () => {
  for (const [type, arb] of Object.entries(clientFrames)) {
    it(`${type} round-trips`, () => {
      fc.assert(
        fc.property(arb, (frame) => {
          assert.deepStrictEqual(decodeClientFrame(encodeClientFrame(frame)), frame);
        }),
        { numRuns: 100 },
      );
    });

    it(`${type}: every truncation and any trailing byte is BAD_FRAME`, () => {
      fc.assert(
        fc.property(arb, fc.uint8Array({ minLength: 1, maxLength: 8 }), (frame, extra) => {
          const bytes = encodeClientFrame(frame);
          for (let cut = 0; cut < bytes.length; cut++) assertDecodeCode(() => decodeClientFrame(bytes.subarray(0, cut)), 'BAD_FRAME');
          const longer = new Uint8Array(bytes.length + extra.length);
          longer.set(bytes);
          longer.set(extra, bytes.length);
          assertDecodeCode(() => decodeClientFrame(longer), 'BAD_FRAME', frame.id);
        }),
        { numRuns: 25 },
      );
    });
  }

  it('decoding does not alias the input buffer', () => {
    const frame: ClientFrame = { type: 'send', id: 1, messageId: zeros(16), recipientDeviceId: zeros(16), deliveryToken: zeros(20), envelope: zeros(10) };
    const bytes = encodeClientFrame(frame);
    const decoded = decodeClientFrame(bytes);
    bytes.fill(0xaa);
    assert.deepStrictEqual(decoded, frame);
  });

  it('decoding does not alias an input whose slice() is a view (a Node Buffer)', () => {
    class ViewSlicing extends Uint8Array {
      override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
        return this.subarray(start, end) as Uint8Array<ArrayBuffer>;
      }
    }
    const frame: ClientFrame = { type: 'send', id: 7, messageId: zeros(16), recipientDeviceId: zeros(16), deliveryToken: zeros(20), envelope: zeros(300) };
    const encoded = encodeClientFrame(frame);
    const input = new ViewSlicing(encoded.length);
    input.set(encoded);
    const decoded = decodeClientFrame(input);
    input.fill(0xaa);
    assert.deepStrictEqual({ ...decoded, messageId: [...(decoded as typeof frame).messageId] }, { ...frame, messageId: [...frame.messageId] });
    assert.deepStrictEqual([...(decoded as typeof frame).envelope], [...frame.envelope]);
    assert.deepStrictEqual([...(decoded as typeof frame).deliveryToken], [...frame.deliveryToken]);
  });

  it('per-message frames are encoded at their exact size', () => {
    const send: ClientFrame = { type: 'send', id: 3, messageId: zeros(16), recipientDeviceId: zeros(16), deliveryToken: zeros(20), envelope: zeros(256) };
    const bytes = encodeClientFrame(send);
    assert.equal(bytes.length, 2 + 4 + 16 + 16 + 4 + 20 + 4 + 256);
    assert.equal(bytes.buffer.byteLength, bytes.length); // handed over, not a slice of a bigger buffer
    const deliver = encodeRelayFrame({ type: 'deliver', messageId: zeros(16), receivedAt: 5, envelope: zeros(256) });
    assert.equal(deliver.length, 2 + 16 + 8 + 4 + 256);
    assert.equal(deliver.buffer.byteLength, deliver.length);
    assert.equal(encodeRelayFrame({ type: 'ok', id: 9 }).buffer.byteLength, 6);
  });
});

describe('relay frames', () => {
  for (const [type, arb] of Object.entries(relayFrames)) {
    it(`${type} round-trips`, () => {
      fc.assert(
        fc.property(arb, (frame) => {
          assert.deepStrictEqual(decodeRelayFrame(encodeRelayFrame(frame)), frame);
        }),
        { numRuns: 100 },
      );
    });

    it(`${type}: every truncation and any trailing byte is BAD_FRAME`, () => {
      fc.assert(
        fc.property(arb, fc.uint8Array({ minLength: 1, maxLength: 8 }), (frame, extra) => {
          const bytes = encodeRelayFrame(frame);
          for (let cut = 0; cut < bytes.length; cut++) assertDecodeCode(() => decodeRelayFrame(bytes.subarray(0, cut)), 'BAD_FRAME');
          const longer = new Uint8Array(bytes.length + extra.length);
          longer.set(bytes);
          longer.set(extra, bytes.length);
          assertDecodeCode(() => decodeRelayFrame(longer), 'BAD_FRAME');
        }),
        { numRuns: 25 },
      );
    });
  }
});

describe('hostile input', () => {
  const typedOnly = (decode: (b: Uint8Array) => unknown) => (bytes: Uint8Array) => {
    try {
      decode(bytes);
    } catch (e) {
      assert.ok(e instanceof ApiDecodeError, `unexpected ${String(e)}`);
    }
  };

  it('random bytes never throw anything but ApiDecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), typedOnly(decodeClientFrame)), { numRuns: 2000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), typedOnly(decodeRelayFrame)), { numRuns: 2000 });
  });

  it('random bodies behind a valid header never throw anything but ApiDecodeError', () => {
    const clientTypes = Object.values(CLIENT_FRAME_TYPES);
    const relayTypes = Object.values(RELAY_FRAME_TYPES);
    const framed = (types: number[]) =>
      fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 400 })).map(([t, body]) => {
        const out = new Uint8Array(body.length + 2);
        out[0] = API_VERSION;
        out[1] = t;
        out.set(body, 2);
        return out;
      });
    fc.assert(fc.property(framed(clientTypes), typedOnly(decodeClientFrame)), { numRuns: 3000 });
    fc.assert(fc.property(framed(relayTypes), typedOnly(decodeRelayFrame)), { numRuns: 3000 });
  });

  it('mutated valid frames never throw anything but ApiDecodeError', () => {
    const mutate = (bytes: Uint8Array, at: number, value: number) => {
      const copy = bytes.slice();
      copy[at % copy.length] = value;
      return copy;
    };
    fc.assert(
      fc.property(anyClientFrame, fc.nat(), fc.nat({ max: 255 }), (f, at, v) => typedOnly(decodeClientFrame)(mutate(encodeClientFrame(f), at, v))),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(anyRelayFrame, fc.nat(), fc.nat({ max: 255 }), (f, at, v) => typedOnly(decodeRelayFrame)(mutate(encodeRelayFrame(f), at, v))),
      { numRuns: 1000 },
    );
  });

  it('another version is UNSUPPORTED_VERSION', () => {
    const ping = encodeClientFrame({ type: 'ping', id: 7 });
    for (const version of [0, 2, 255]) {
      const bad = ping.slice();
      bad[0] = version;
      assertDecodeCode(() => decodeClientFrame(bad), 'UNSUPPORTED_VERSION');
      assertDecodeCode(() => decodeRelayFrame(bad), 'UNSUPPORTED_VERSION');
    }
  });

  it('frames sent in the wrong direction are UNEXPECTED_FRAME; unknown types are BAD_FRAME', () => {
    assertDecodeCode(() => decodeClientFrame(encodeRelayFrame({ type: 'ok', id: 1 })), 'UNEXPECTED_FRAME');
    assertDecodeCode(() => decodeRelayFrame(encodeClientFrame({ type: 'ping', id: 1 })), 'UNEXPECTED_FRAME');
    assertDecodeCode(() => decodeClientFrame(new Uint8Array([API_VERSION, 0x00, 0, 0, 0, 1])), 'BAD_FRAME');
    assertDecodeCode(() => decodeClientFrame(new Uint8Array([API_VERSION, 0x7f, 0, 0, 0, 1])), 'BAD_FRAME');
    assertDecodeCode(() => decodeRelayFrame(new Uint8Array([API_VERSION, 0xff])), 'BAD_FRAME');
  });

  it('a frame above MAX_FRAME_BYTES is FRAME_TOO_LARGE', () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 1);
    big[0] = API_VERSION;
    big[1] = CLIENT_FRAME_TYPES.send;
    assertDecodeCode(() => decodeClientFrame(big), 'FRAME_TOO_LARGE');
    assertDecodeCode(() => decodeRelayFrame(big), 'FRAME_TOO_LARGE');
  });
});

describe('limits', () => {
  const base = { messageId: zeros(ID_BYTES), recipientDeviceId: zeros(ID_BYTES), deliveryToken: zeros(32) };

  it('MAX_ENVELOPE_BYTES: the largest envelope fits in a frame, one more byte does not', () => {
    const frame: ClientFrame = { type: 'send', id: 1, ...base, envelope: zeros(MAX_ENVELOPE_BYTES) };
    const bytes = encodeClientFrame(frame);
    assert.ok(bytes.length <= MAX_FRAME_BYTES);
    assert.equal((decodeClientFrame(bytes) as unknown as { envelope: Uint8Array }).envelope.length, MAX_ENVELOPE_BYTES);
    assertCode(() => encodeClientFrame({ ...frame, envelope: zeros(MAX_ENVELOPE_BYTES + 1) }), 'BAD_FRAME');
    // A hand-made frame whose length prefix claims one byte more than allowed.
    const claimed = bytes.slice();
    const view = new DataView(claimed.buffer);
    const lengthAt = 2 + 4 + 16 + 16 + 4 + 32;
    view.setUint32(lengthAt, MAX_ENVELOPE_BYTES + 1);
    assertDecodeCode(() => decodeClientFrame(claimed), 'BAD_FRAME', 1);
    assert.ok(encodeRelayFrame({ type: 'deliver', messageId: zeros(16), receivedAt: 1, envelope: zeros(MAX_ENVELOPE_BYTES) }).length <= MAX_FRAME_BYTES);
  });

  it('MAX_DEVICE_LIST_BYTES and MAX_PROVISIONING_ENVELOPE_BYTES: the largest fit in a frame, one more byte does not', () => {
    const id16 = zeros(ID_BYTES);
    const list: ClientFrame = { type: 'put_device_list', id: 3, deviceList: zeros(MAX_DEVICE_LIST_BYTES) };
    assert.ok(encodeClientFrame(list).length <= MAX_FRAME_BYTES);
    assertCode(() => encodeClientFrame({ ...list, deviceList: zeros(MAX_DEVICE_LIST_BYTES + 1) }), 'BAD_FRAME');
    const send: ClientFrame = { type: 'provision_send', id: 4, provisioningId: id16, envelope: zeros(MAX_PROVISIONING_ENVELOPE_BYTES) };
    const bytes = encodeClientFrame(send);
    assert.ok(bytes.length <= MAX_FRAME_BYTES);
    assertCode(() => encodeClientFrame({ ...send, envelope: zeros(MAX_PROVISIONING_ENVELOPE_BYTES + 1) }), 'BAD_FRAME');
    const claimed = bytes.slice();
    new DataView(claimed.buffer).setUint32(2 + 4 + 16, MAX_PROVISIONING_ENVELOPE_BYTES + 1);
    assertDecodeCode(() => decodeClientFrame(claimed), 'BAD_FRAME', 4);
    const push = encodeRelayFrame({ type: 'provision_message', provisioningId: id16, envelope: zeros(MAX_PROVISIONING_ENVELOPE_BYTES) });
    assert.ok(push.length <= MAX_FRAME_BYTES);
    // A full list plus MAX_DEVICES_PER_ACCOUNT bundles of twice a real bundle's size (~2 KiB) fits in one frame.
    const full = encodeRelayFrame({
      type: 'device_bundles',
      id: 1,
      deviceList: zeros(MAX_DEVICE_LIST_BYTES),
      bundles: Array.from({ length: MAX_DEVICES_PER_ACCOUNT }, () => zeros(MAX_BUNDLE_BYTES / 2)),
    });
    assert.ok(full.length <= MAX_FRAME_BYTES);
    assert.throws(
      () => encodeRelayFrame({ type: 'device_bundles', id: 1, deviceList: zeros(0), bundles: Array.from({ length: MAX_DEVICES_PER_ACCOUNT + 1 }, () => zeros(1)) }),
      (e: unknown) => e instanceof RelayError && e.code === 'LIMIT_EXCEEDED',
    );
  });

  it('MAX_PREKEYS_PER_UPLOAD: a full upload fits in a frame; one more is LIMIT_EXCEEDED with the request id', () => {
    const sig = zeros(SIGNATURE_BYTES);
    const full: ClientFrame = {
      type: 'upload_prekeys',
      id: 42,
      signedPreKey: { id: 1, publicKey: zeros(X25519_PREKEY_BYTES), signature: sig },
      kemLastResortPreKey: { id: 2, publicKey: zeros(KEM_PREKEY_BYTES), signature: sig },
      oneTimePreKeys: Array.from({ length: MAX_PREKEYS_PER_UPLOAD }, (_, i) => ({ id: i, publicKey: zeros(X25519_PREKEY_BYTES) })),
      kemOneTimePreKeys: Array.from({ length: MAX_PREKEYS_PER_UPLOAD }, (_, i) => ({ id: i, publicKey: zeros(KEM_PREKEY_BYTES), signature: sig })),
    };
    const bytes = encodeClientFrame(full);
    assert.ok(bytes.length <= MAX_FRAME_BYTES);
    assert.deepStrictEqual(decodeClientFrame(bytes), full);
    const tooMany = { ...full, oneTimePreKeys: [...full.oneTimePreKeys, { id: 999, publicKey: zeros(X25519_PREKEY_BYTES) }] };
    assertCode(() => encodeClientFrame(tooMany), 'LIMIT_EXCEEDED');
    // Hand-made: bump the one-time count field to MAX + 1.
    const offset = 2 + 4 + 1 + (4 + 32 + 64) + 1 + (4 + KEM_PREKEY_BYTES + 64);
    const hacked = bytes.slice();
    new DataView(hacked.buffer).setUint16(offset, MAX_PREKEYS_PER_UPLOAD + 1);
    assertDecodeCode(() => decodeClientFrame(hacked), 'LIMIT_EXCEEDED', 42);
  });

  it('MAX_ACK_IDS and MAX_TOKENS_PER_REQUEST are enforced with LIMIT_EXCEEDED', () => {
    const ids = Array.from({ length: MAX_ACK_IDS }, () => zeros(ID_BYTES));
    assert.equal((decodeClientFrame(encodeClientFrame({ type: 'ack', id: 3, messageIds: ids })) as unknown as { messageIds: unknown[] }).messageIds.length, MAX_ACK_IDS);
    assertCode(() => encodeClientFrame({ type: 'ack', id: 3, messageIds: [...ids, zeros(ID_BYTES)] }), 'LIMIT_EXCEEDED');
    const ack = new Uint8Array([API_VERSION, CLIENT_FRAME_TYPES.ack, 0, 0, 0, 3, (MAX_ACK_IDS + 1) >> 8, (MAX_ACK_IDS + 1) & 0xff]);
    assertDecodeCode(() => decodeClientFrame(ack), 'LIMIT_EXCEEDED', 3);
    const tokens = Array.from({ length: MAX_TOKENS_PER_REQUEST + 1 }, () => zeros(MIN_DELIVERY_TOKEN_BYTES));
    assertCode(() => encodeClientFrame({ type: 'set_delivery_tokens', id: 1, add: tokens, remove: [] }), 'LIMIT_EXCEEDED');
    assertCode(() => encodeClientFrame({ type: 'set_delivery_tokens', id: 1, add: [], remove: tokens }), 'LIMIT_EXCEEDED');
  });

  it('delivery tokens: added tokens shorter than MIN_DELIVERY_TOKEN_BYTES or any above MAX are BAD_FRAME', () => {
    assertCode(() => encodeClientFrame({ type: 'set_delivery_tokens', id: 1, add: [zeros(MIN_DELIVERY_TOKEN_BYTES - 1)], remove: [] }), 'BAD_FRAME');
    assertCode(() => encodeClientFrame({ type: 'send', id: 1, ...base, deliveryToken: zeros(MAX_DELIVERY_TOKEN_BYTES + 1), envelope: zeros(1) }), 'BAD_FRAME');
    const hand = new Uint8Array([API_VERSION, CLIENT_FRAME_TYPES.set_delivery_tokens, 0, 0, 0, 9, 0, 1, 0, 0, 0, 1, 0xaa, 0, 0]);
    assertDecodeCode(() => decodeClientFrame(hand), 'BAD_FRAME', 9);
  });

  it('MAX_ERROR_MESSAGE_BYTES bounds the error message', () => {
    const ok: RelayFrame = { type: 'error', id: 1, code: 'INTERNAL', message: 'x'.repeat(MAX_ERROR_MESSAGE_BYTES), retryAfterMs: 0 };
    assert.deepStrictEqual(decodeRelayFrame(encodeRelayFrame(ok)), ok);
    assertCode(() => encodeRelayFrame({ ...ok, message: 'x'.repeat(MAX_ERROR_MESSAGE_BYTES + 1) }), 'BAD_FRAME');
  });

  it('fixed-size fields of the wrong size are refused by the encoder', () => {
    assertCode(() => encodeClientFrame({ type: 'auth', id: 1, deviceId: zeros(15), signature: zeros(SIGNATURE_BYTES) }), 'BAD_FRAME');
    assertCode(() => encodeClientFrame({ type: 'auth', id: 1, deviceId: zeros(16), signature: zeros(63) }), 'BAD_FRAME');
    assertCode(() => encodeClientFrame({ type: 'ping', id: -1 }), 'BAD_FRAME');
    assertCode(() => encodeClientFrame({ type: 'ping', id: 2 ** 32 }), 'BAD_FRAME');
    assertCode(() => encodeRelayFrame({ type: 'challenge', nonce: zeros(31), relayTime: 0 }), 'BAD_FRAME');
  });

  it('an unknown error code on the wire is BAD_FRAME', () => {
    const bytes = encodeRelayFrame({ type: 'error', id: 1, code: 'INTERNAL', message: '', retryAfterMs: 0 });
    bytes[6] = 250;
    assertDecodeCode(() => decodeRelayFrame(bytes), 'BAD_FRAME');
  });
});
