import { utf8 } from '@pigeon/crypto';
import { ProtocolError } from '../errors.js';

/**
 * Append-only big-endian binary writer. Variable-length fields carry a u32 length
 * prefix and an explicit maximum, so encoder and decoder agree on every bound.
 */
export class Writer {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buffer = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  private checkInt(value: number, max: number, what: string): void {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new ProtocolError('BAD_FIELD', `${what} out of range: ${value}`);
    }
  }

  u8(value: number): this {
    this.checkInt(value, 0xff, 'u8');
    this.reserve(1);
    this.buffer[this.length++] = value;
    return this;
  }

  u16(value: number): this {
    this.checkInt(value, 0xffff, 'u16');
    this.reserve(2);
    this.view.setUint16(this.length, value);
    this.length += 2;
    return this;
  }

  u32(value: number): this {
    this.checkInt(value, 0xffffffff, 'u32');
    this.reserve(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  /** Unsigned 64-bit from a JS number; values above 2^53-1 are refused rather than rounded. */
  u64(value: number): this {
    this.checkInt(value, Number.MAX_SAFE_INTEGER, 'u64');
    this.reserve(8);
    this.view.setUint32(this.length, Math.floor(value / 0x100000000));
    this.view.setUint32(this.length + 4, value >>> 0);
    this.length += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** Raw bytes of a length both sides know; no prefix. */
  fixed(bytes: Uint8Array, expectedLength: number): this {
    if (bytes.length !== expectedLength) {
      throw new ProtocolError('BAD_FIELD', `expected ${expectedLength} bytes, got ${bytes.length}`);
    }
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** u32 length prefix, then the bytes. */
  bytes(bytes: Uint8Array, maxLength: number): this {
    if (bytes.length > maxLength) {
      throw new ProtocolError('FIELD_TOO_LARGE', `field of ${bytes.length} bytes exceeds ${maxLength}`);
    }
    this.u32(bytes.length);
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  string(text: string, maxBytes: number): this {
    return this.bytes(utf8.encode(text), maxBytes);
  }

  /**
   * The written bytes, owned by the caller (the writer may be reused or dropped). When the
   * buffer is exactly full it is handed over without a copy: any later write must grow the
   * writer into a new buffer first, so the returned bytes are never written again.
   * Encoders that know their exact size pass it as the initial capacity to get this.
   */
  finish(): Uint8Array {
    if (this.length === this.buffer.length) return this.buffer;
    return this.buffer.slice(0, this.length);
  }
}
