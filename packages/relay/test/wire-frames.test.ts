/**
 * The relay's WebSocket framing without sockets: FrameParser fed hand-built client frames, and
 * the server-side writer checked against an independent decoder.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import { FrameParser, OPCODE, WIRE_CLOSE, isValidCloseCode, type FrameListener } from '../src/wire/frame-parser.js';
import { closePayload, headerSize, writeFrame } from '../src/wire/frame-writer.js';
import { bytes, clientFrame, closeBody } from './helpers/ws-frames.js';

// ---- recording what the parser reports ----------------------------------------------------

type Event =
  | { kind: 'data'; data: Buffer; isBinary: boolean }
  | { kind: 'ping'; payload: Buffer }
  | { kind: 'pong'; payload: Buffer }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'error'; code: number };

class Recorder implements FrameListener {
  readonly events: Event[] = [];
  // Payloads are views valid only during the call: copy them.
  dataFrame(data: Buffer, isBinary: boolean): void {
    this.events.push({ kind: 'data', data: Buffer.from(data), isBinary });
  }
  pingFrame(payload: Buffer): void {
    this.events.push({ kind: 'ping', payload: Buffer.from(payload) });
  }
  pongFrame(payload: Buffer): void {
    this.events.push({ kind: 'pong', payload: Buffer.from(payload) });
  }
  closeFrame(code: number, reason: string): void {
    this.events.push({ kind: 'close', code, reason });
  }
  protocolError(code: number): void {
    this.events.push({ kind: 'error', code });
  }
}

const MAX = 1 << 20;

/** Feeds copies of `chunks` (the parser unmasks in place) and returns the events and the parser. */
function feed(chunks: readonly Buffer[], maxPayload = MAX): { events: Event[]; parser: FrameParser } {
  const recorder = new Recorder();
  const parser = new FrameParser(maxPayload, recorder);
  for (const c of chunks) parser.push(Buffer.from(c));
  return { events: recorder.events, parser };
}

const eventsOf = (chunks: readonly Buffer[], maxPayload = MAX): Event[] => feed(chunks, maxPayload).events;

const data = (payload: Uint8Array | string, isBinary = true): Event => ({ kind: 'data', data: bytes(payload), isBinary });

/** A deterministic byte pattern (no randomness in tests). */
function pattern(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Asserts that `stream` parses to `expected` however it is split into chunks. */
function assertSplitInvariant(stream: Buffer, expected: Event[], maxPayload = MAX): void {
  assert.deepEqual(eventsOf([stream], maxPayload), expected, 'one chunk');
  const single: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) single.push(stream.subarray(i, i + 1));
  assert.deepEqual(eventsOf(single, maxPayload), expected, 'byte by byte');
  for (let i = 1; i < stream.length; i++) {
    assert.deepEqual(eventsOf([stream.subarray(0, i), stream.subarray(i)], maxPayload), expected, `split at ${i}`);
  }
}

// ---- the tests ------------------------------------------------------------------------------

describe('wire: FrameParser, valid input', () => {
  it('a single binary frame', () => {
    const payload = pattern(20);
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload })]), [data(payload)]);
  });

  it('an empty binary frame and an unusual masking key', () => {
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload: '' })]), [data('')]);
    const payload = pattern(13, 9);
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload, mask: [0, 0xff, 0x80, 0x01] })]), [data(payload)]);
  });

  it('a text frame is reported with isBinary false', () => {
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.text, payload: 'héllo, wörld €😀' })]), [data('héllo, wörld €😀', false)]);
  });

  it('several frames in one chunk', () => {
    const chunk = Buffer.concat([
      clientFrame({ opcode: OPCODE.binary, payload: 'one' }),
      clientFrame({ opcode: OPCODE.ping, payload: 'p' }),
      clientFrame({ opcode: OPCODE.text, payload: 'two' }),
      clientFrame({ opcode: OPCODE.pong, payload: '' }),
      clientFrame({ opcode: OPCODE.binary, payload: 'three' }),
    ]);
    assert.deepEqual(eventsOf([chunk]), [
      data('one'),
      { kind: 'ping', payload: bytes('p') },
      data('two', false),
      { kind: 'pong', payload: bytes('') },
      data('three'),
    ]);
  });

  it('every split of a frame sequence into two chunks, and byte by byte, gives the same messages', () => {
    const big = pattern(200, 3);
    const frames = [
      clientFrame({ opcode: OPCODE.binary, payload: 'abc' }),
      clientFrame({ opcode: OPCODE.text, payload: 'ü€' }),
      clientFrame({ opcode: OPCODE.ping, payload: 'ping!' }),
      clientFrame({ opcode: OPCODE.binary, payload: big }), // 16-bit length
      clientFrame({ opcode: OPCODE.binary, payload: '', fin: false }),
      clientFrame({ opcode: OPCODE.pong, payload: 'x' }),
      clientFrame({ opcode: OPCODE.continuation, payload: 'frag', fin: false }),
      clientFrame({ opcode: OPCODE.continuation, payload: 'ment' }),
      clientFrame({ opcode: OPCODE.close, payload: closeBody(1000, 'bye') }),
    ];
    assertSplitInvariant(Buffer.concat(frames), [
      data('abc'),
      data('ü€', false),
      { kind: 'ping', payload: bytes('ping!') },
      data(big),
      { kind: 'pong', payload: bytes('x') },
      data('fragment'),
      { kind: 'close', code: 1000, reason: 'bye' },
    ]);
  });

  it('every split of a short sequence into three chunks gives the same messages', () => {
    const stream = Buffer.concat([
      clientFrame({ opcode: OPCODE.text, payload: '€', fin: false }),
      clientFrame({ opcode: OPCODE.ping, payload: 'p' }),
      clientFrame({ opcode: OPCODE.continuation, payload: '!' }),
      clientFrame({ opcode: OPCODE.binary, payload: pattern(130), lengthBits: 16 }),
    ]);
    const expected = [{ kind: 'ping', payload: bytes('p') } as Event, data('€!', false), data(pattern(130))];
    for (let i = 1; i < stream.length; i++) {
      for (let j = i + 1; j < stream.length; j++) {
        assert.deepEqual(eventsOf([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]), expected, `split at ${i}, ${j}`);
      }
    }
  });

  it('16-bit and 64-bit lengths (200 and 70,000 bytes), whole and in chunks', () => {
    const p200 = pattern(200, 5);
    const p70k = pattern(70_000, 7);
    const f200 = clientFrame({ opcode: OPCODE.binary, payload: p200 });
    const f70k = clientFrame({ opcode: OPCODE.binary, payload: p70k });
    assert.equal(f200[1]! & 0x7f, 126);
    assert.equal(f70k[1]! & 0x7f, 127);
    assert.deepEqual(eventsOf([f200]), [data(p200)]);
    assert.deepEqual(eventsOf([f70k]), [data(p70k)]);
    const both = Buffer.concat([f200, f70k, f200]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < both.length; i += 997) chunks.push(both.subarray(i, i + 997));
    assert.deepEqual(eventsOf(chunks), [data(p200), data(p70k), data(p200)]);
    // Non-minimal encodings are accepted too.
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload: 'hi', lengthBits: 64 })]), [data('hi')]);
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload: 'hi', lengthBits: 16 })]), [data('hi')]);
  });

  it('a fragmented message with a ping between its fragments', () => {
    const a = pattern(50, 11);
    const b = pattern(300, 12);
    const c = pattern(7, 13);
    const stream = Buffer.concat([
      clientFrame({ opcode: OPCODE.binary, payload: a, fin: false }),
      clientFrame({ opcode: OPCODE.continuation, payload: b, fin: false }),
      clientFrame({ opcode: OPCODE.ping, payload: 'between' }),
      clientFrame({ opcode: OPCODE.continuation, payload: c }),
      clientFrame({ opcode: OPCODE.binary, payload: 'after' }),
    ]);
    assertSplitInvariant(stream, [{ kind: 'ping', payload: bytes('between') }, data(Buffer.concat([a, b, c])), data('after')]);
  });

  it('a text message whose UTF-8 sequence is split across fragments is valid', () => {
    const euro = Buffer.from('€', 'utf8');
    const events = eventsOf([
      clientFrame({ opcode: OPCODE.text, payload: euro.subarray(0, 1), fin: false }),
      clientFrame({ opcode: OPCODE.continuation, payload: euro.subarray(1) }),
    ]);
    assert.deepEqual(events, [data('€', false)]);
  });

  it('a close frame with a code and reason, and one without a code (1005)', () => {
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.close, payload: closeBody(4000, 'done ✓') })]), [{ kind: 'close', code: 4000, reason: 'done ✓' }]);
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.close, payload: closeBody(1000) })]), [{ kind: 'close', code: 1000, reason: '' }]);
    const { events, parser } = feed([clientFrame({ opcode: OPCODE.close })]);
    assert.deepEqual(events, [{ kind: 'close', code: WIRE_CLOSE.noStatus, reason: '' }]);
    assert.equal(parser.done, true);
  });

  it('a message of exactly maxPayload bytes, whole or in fragments, is accepted', () => {
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload: pattern(100) })], 100), [data(pattern(100))]);
    const p = pattern(100);
    const events = eventsOf(
      [clientFrame({ opcode: OPCODE.binary, payload: p.subarray(0, 60), fin: false }), clientFrame({ opcode: OPCODE.continuation, payload: p.subarray(60) })],
      100,
    );
    assert.deepEqual(events, [data(p)]);
  });
});

describe('wire: FrameParser, protocol errors', () => {
  const cases: { name: string; frames: Buffer[]; code: number; maxPayload?: number; before?: Event[] }[] = [
    { name: 'unmasked frame', frames: [clientFrame({ opcode: OPCODE.binary, payload: 'hello', mask: null })], code: 1002 },
    { name: 'unmasked close frame with a code', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(1000, 'bye'), mask: null })], code: 1002 },
    { name: 'RSV1 set', frames: [clientFrame({ opcode: OPCODE.binary, payload: 'x', rsv: 0b100 })], code: 1002 },
    { name: 'RSV2 set', frames: [clientFrame({ opcode: OPCODE.binary, payload: 'x', rsv: 0b010 })], code: 1002 },
    { name: 'RSV3 set', frames: [clientFrame({ opcode: OPCODE.binary, payload: 'x', rsv: 0b001 })], code: 1002 },
    { name: 'RSV bit on a control frame', frames: [clientFrame({ opcode: OPCODE.ping, rsv: 0b100 })], code: 1002 },
    { name: 'unknown data opcode 0x3', frames: [clientFrame({ opcode: 0x3, payload: 'x' })], code: 1002 },
    { name: 'unknown data opcode 0x7', frames: [clientFrame({ opcode: 0x7, payload: 'x' })], code: 1002 },
    { name: 'unknown control opcode 0xb', frames: [clientFrame({ opcode: 0xb })], code: 1002 },
    { name: 'unknown control opcode 0xf', frames: [clientFrame({ opcode: 0xf })], code: 1002 },
    { name: 'continuation without a start', frames: [clientFrame({ opcode: OPCODE.continuation, payload: 'x' })], code: 1002 },
    {
      name: 'new data frame inside a fragmented one',
      frames: [clientFrame({ opcode: OPCODE.binary, payload: 'a', fin: false }), clientFrame({ opcode: OPCODE.binary, payload: 'b' })],
      code: 1002,
    },
    {
      name: 'text frame inside a fragmented binary one',
      frames: [clientFrame({ opcode: OPCODE.binary, payload: 'a', fin: false }), clientFrame({ opcode: OPCODE.text, payload: 'b', fin: false })],
      code: 1002,
    },
    { name: 'ping with FIN clear', frames: [clientFrame({ opcode: OPCODE.ping, fin: false })], code: 1002 },
    { name: 'close with FIN clear', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(1000), fin: false })], code: 1002 },
    { name: 'ping of 126 bytes', frames: [clientFrame({ opcode: OPCODE.ping, payload: pattern(126) })], code: 1002 },
    { name: 'pong of 200 bytes', frames: [clientFrame({ opcode: OPCODE.pong, payload: pattern(200) })], code: 1002 },
    { name: 'data message above maxPayload', frames: [clientFrame({ opcode: OPCODE.binary, payload: pattern(101) })], code: 1009, maxPayload: 100 },
    {
      name: 'fragments whose sum exceeds maxPayload',
      frames: [clientFrame({ opcode: OPCODE.binary, payload: pattern(60), fin: false }), clientFrame({ opcode: OPCODE.continuation, payload: pattern(41) })],
      code: 1009,
      maxPayload: 100,
    },
    {
      name: 'a 64-bit length with the high word set',
      frames: [clientFrame({ opcode: OPCODE.binary, payload: 'x', lengthBits: 64, declaredLength: 1, highWord: 1 })],
      code: 1009,
    },
    { name: 'invalid UTF-8 text', frames: [clientFrame({ opcode: OPCODE.text, payload: Buffer.from([0x61, 0xff, 0x62]) })], code: 1007 },
    { name: 'truncated UTF-8 text', frames: [clientFrame({ opcode: OPCODE.text, payload: Buffer.from('€', 'utf8').subarray(0, 2) })], code: 1007 },
    {
      name: 'invalid UTF-8 in a fragmented text message',
      frames: [clientFrame({ opcode: OPCODE.text, payload: 'ok', fin: false }), clientFrame({ opcode: OPCODE.continuation, payload: Buffer.from([0xc3]) })],
      code: 1007,
    },
    { name: 'close payload of one byte', frames: [clientFrame({ opcode: OPCODE.close, payload: Buffer.from([0x03]) })], code: 1002 },
    { name: 'close code 1005', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(1005) })], code: 1002 },
    { name: 'close code 1006', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(1006) })], code: 1002 },
    { name: 'close code 999', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(999) })], code: 1002 },
    { name: 'close code 2000', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(2000) })], code: 1002 },
    { name: 'close code 5000', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(5000) })], code: 1002 },
    { name: 'close with an invalid UTF-8 reason', frames: [clientFrame({ opcode: OPCODE.close, payload: closeBody(1000, Buffer.from([0xfe, 0x41])) })], code: 1007 },
    {
      name: 'an error after valid frames in the same chunk',
      frames: [Buffer.concat([clientFrame({ opcode: OPCODE.binary, payload: 'ok' }), clientFrame({ opcode: OPCODE.binary, payload: 'hello', mask: null })])],
      code: 1002,
      before: [data('ok')],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: close ${c.code}, then silence`, () => {
      const recorder = new Recorder();
      const parser = new FrameParser(c.maxPayload ?? MAX, recorder);
      for (const f of c.frames) parser.push(Buffer.from(f));
      assert.deepEqual(recorder.events, [...(c.before ?? []), { kind: 'error', code: c.code }]);
      assert.equal(parser.done, true);
      // Nothing after the error is parsed, whole frames or pieces.
      parser.push(clientFrame({ opcode: OPCODE.binary, payload: 'later' }));
      parser.push(clientFrame({ opcode: OPCODE.close, payload: closeBody(1000) }));
      assert.equal(recorder.events.length, (c.before ?? []).length + 1);
    });
  }

  it('an oversized message is refused from its header, before the payload arrives', () => {
    const frame = clientFrame({ opcode: OPCODE.binary, payload: pattern(70_000) });
    const { events, parser } = feed([frame.subarray(0, 14)], 1000);
    assert.deepEqual(events, [{ kind: 'error', code: WIRE_CLOSE.tooBig }]);
    assert.equal(parser.done, true);
  });

  it('a control frame announcing more than 125 bytes is refused from its header', () => {
    const frame = clientFrame({ opcode: OPCODE.ping, payload: pattern(126) });
    assert.deepEqual(eventsOf([frame.subarray(0, 8)]), [{ kind: 'error', code: WIRE_CLOSE.protocolError }]);
  });

  // MASK and RSV are checked on the first two bytes: waiting for a 6-byte masked header would
  // stall on a complete unmasked frame shorter than that.
  it('an unmasked frame is refused as soon as its first two bytes are there', () => {
    const frame = clientFrame({ opcode: OPCODE.binary, payload: 'hello', mask: null });
    assert.deepEqual(eventsOf([frame.subarray(0, 2)]), [{ kind: 'error', code: WIRE_CLOSE.protocolError }]);
  });

  it('a whole unmasked frame shorter than 6 bytes (empty close, 1-byte binary) is refused', () => {
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.close, mask: null })]), [{ kind: 'error', code: WIRE_CLOSE.protocolError }]);
    assert.deepEqual(eventsOf([clientFrame({ opcode: OPCODE.binary, payload: 'x', mask: null })]), [{ kind: 'error', code: WIRE_CLOSE.protocolError }]);
  });

  it('after the peer closes, later frames in the same chunk and later chunks are ignored', () => {
    const chunk = Buffer.concat([
      clientFrame({ opcode: OPCODE.binary, payload: 'before' }),
      clientFrame({ opcode: OPCODE.close, payload: closeBody(1001, 'away') }),
      clientFrame({ opcode: OPCODE.binary, payload: 'after' }),
      clientFrame({ opcode: OPCODE.ping }),
    ]);
    const { events, parser } = feed([chunk]);
    assert.deepEqual(events, [data('before'), { kind: 'close', code: 1001, reason: 'away' }]);
    assert.equal(parser.done, true);
    parser.push(clientFrame({ opcode: OPCODE.binary, payload: 'more' }));
    parser.push(clientFrame({ opcode: OPCODE.binary, payload: 'x', mask: null }));
    assert.equal(events.length, 2);
  });

  it('isValidCloseCode follows RFC 6455 7.4', () => {
    const table: [number, boolean][] = [
      [0, false],
      [999, false],
      [1000, true],
      [1001, true],
      [1002, true],
      [1003, true],
      [1004, false],
      [1005, false],
      [1006, false],
      [1007, true],
      [1008, true],
      [1009, true],
      [1010, true],
      [1011, true],
      [1012, true],
      [1013, true],
      [1014, true],
      [1015, false],
      [1016, false],
      [2000, false],
      [2999, false],
      [3000, true],
      [4000, true],
      [4999, true],
      [5000, false],
      [65535, false],
    ];
    for (const [code, valid] of table) assert.equal(isValidCloseCode(code), valid, String(code));
  });
});

// ---- the writer -----------------------------------------------------------------------------

interface ServerFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** An independent decoder of server frames: unmasked, minimal lengths; throws on anything else. */
function decodeServerFrames(buf: Buffer): ServerFrame[] {
  const out: ServerFrame[] = [];
  let at = 0;
  while (at < buf.length) {
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    assert.equal(b1 & 0x80, 0, 'server frames are unmasked');
    let length = b1 & 0x7f;
    at += 2;
    if (length === 126) {
      length = buf.readUInt16BE(at);
      assert.ok(length >= 126, 'minimal 16-bit length');
      at += 2;
    } else if (length === 127) {
      length = Number(buf.readBigUInt64BE(at));
      assert.ok(length >= 0x10000, 'minimal 64-bit length');
      at += 8;
    }
    assert.ok(at + length <= buf.length, 'payload within buffer');
    out.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, payload: Buffer.from(buf.subarray(at, at + length)) });
    at += length;
  }
  return out;
}

describe('wire: frame writer', () => {
  it('headerSize at the length-encoding boundaries', () => {
    assert.equal(headerSize(0), 2);
    assert.equal(headerSize(125), 2);
    assert.equal(headerSize(126), 4);
    assert.equal(headerSize(65535), 4);
    assert.equal(headerSize(65536), 10);
    assert.equal(headerSize(10_000_000), 10);
  });

  it('writeFrame round-trips through an independent decoder at every boundary size', () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70_000]) {
      const payload = pattern(n, n + 1);
      const prefix = 3; // a frame written after others in the same buffer
      const out = Buffer.alloc(prefix + headerSize(n) + n, 0xee);
      const end = writeFrame(out, prefix, OPCODE.binary, payload);
      assert.equal(end, out.length, `end offset for ${n}`);
      assert.deepEqual(out.subarray(0, prefix), Buffer.alloc(prefix, 0xee), 'bytes before the offset untouched');
      const frames = decodeServerFrames(out.subarray(prefix));
      assert.deepEqual(frames, [{ fin: true, rsv: 0, opcode: OPCODE.binary, payload }], `size ${n}`);
    }
  });

  it('frames written back to back decode in order', () => {
    const parts: [number, Buffer][] = [
      [OPCODE.binary, pattern(10)],
      [OPCODE.ping, Buffer.alloc(0)],
      [OPCODE.pong, bytes('pp')],
      [OPCODE.binary, pattern(300)],
      [OPCODE.close, closePayload(1000, 'bye')],
    ];
    const out = Buffer.alloc(parts.reduce((s, [, p]) => s + headerSize(p.length) + p.length, 0));
    let offset = 0;
    for (const [op, p] of parts) offset = writeFrame(out, offset, op, p);
    assert.equal(offset, out.length);
    assert.deepEqual(
      decodeServerFrames(out),
      parts.map(([opcode, payload]) => ({ fin: true, rsv: 0, opcode, payload })),
    );
  });

  it('closePayload: the code, then the reason', () => {
    assert.deepEqual(closePayload(1000, ''), Buffer.from([0x03, 0xe8]));
    assert.deepEqual(closePayload(4003, 'bye'), Buffer.concat([Buffer.from([0x0f, 0xa3]), bytes('bye')]));
    const exact = 'r'.repeat(123);
    assert.deepEqual(closePayload(1001, exact).subarray(2), bytes(exact), '123 bytes fit');
  });

  it('closePayload clips a long reason to 125 bytes without splitting a UTF-8 sequence', () => {
    for (const unit of ['€', '😀', 'é', 'a€😀']) {
      for (let lead = 0; lead < 4; lead++) {
        const reason = 'a'.repeat(lead) + unit.repeat(80);
        const p = closePayload(1008, reason);
        assert.ok(p.length <= 125, `${lead}/${unit}: ${p.length} bytes`);
        assert.equal(p.readUInt16BE(0), 1008);
        const text = p.subarray(2);
        assert.ok(isUtf8(text), `${lead}/${unit}: valid UTF-8`);
        const kept = text.toString('utf8');
        assert.ok(reason.startsWith(kept), 'a prefix of the reason');
        // As much as fits: one more character would not.
        const nextChar = String.fromCodePoint(reason.slice(kept.length).codePointAt(0)!);
        assert.ok(text.length + Buffer.byteLength(nextChar) > 123, `${lead}/${unit}: clipped too much`);
      }
    }
    const euros = closePayload(1000, '€'.repeat(60));
    assert.equal(euros.length, 125);
    assert.equal(euros.subarray(2).toString('utf8'), '€'.repeat(41));
    const faces = closePayload(1000, '😀'.repeat(40));
    assert.equal(faces.length, 2 + 120);
  });

  it('the parser refuses the writer\'s (unmasked) frames: they are server frames', () => {
    const p = bytes('hello');
    const out = Buffer.alloc(headerSize(p.length) + p.length);
    writeFrame(out, 0, OPCODE.binary, p);
    assert.deepEqual(eventsOf([out]), [{ kind: 'error', code: WIRE_CLOSE.protocolError }]);
  });
});
