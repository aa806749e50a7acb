import { utf8 } from '@pigeon/crypto';
import { ProtocolError } from '../errors.js';

/**
 * Bounds-checked big-endian reader, the mirror of Writer. Every read that would pass
 * the end throws TRUNCATED; every length prefix above its declared maximum throws
 * FIELD_TOO_LARGE before anything is allocated; `end()` refuses trailing bytes.
 * Byte fields from fixed()/bytes() are copies, so callers may keep them after the input is
 * reused. fixedView()/bytesView() return views instead (no allocation per field) and are only
 * for decoders that own their input (they made a private copy, or the bytes belong to a value
 * that is never written to) or that drop the field before returning.
 */
export class Reader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  private need(count: number): void {
    if (this.offset + count > this.input.length) {
      throw new ProtocolError('TRUNCATED', `needed ${count} bytes at offset ${this.offset}, have ${this.remaining()}`);
    }
  }

  remaining(): number {
    return this.input.length - this.offset;
  }

  u8(): number {
    this.need(1);
    return this.input[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const high = this.view.getUint32(this.offset);
    const low = this.view.getUint32(this.offset + 4);
    if (high > 0x1fffff) throw new ProtocolError('BAD_FIELD', 'u64 above 2^53-1');
    this.offset += 8;
    return high * 0x100000000 + low;
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new ProtocolError('BAD_FIELD', `boolean must be 0 or 1, got ${v}`);
    return v === 1;
  }

  fixed(length: number): Uint8Array {
    this.need(length);
    const out = this.input.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** Like fixed(), but a view into the input: see the class comment for when that is safe. */
  fixedView(length: number): Uint8Array {
    this.need(length);
    const out = this.input.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  bytes(maxLength: number): Uint8Array {
    return this.fixed(this.lengthPrefix(maxLength));
  }

  /** Like bytes(), but a view into the input: see the class comment for when that is safe. */
  bytesView(maxLength: number): Uint8Array {
    return this.fixedView(this.lengthPrefix(maxLength));
  }

  private lengthPrefix(maxLength: number): number {
    const length = this.u32();
    if (length > maxLength) throw new ProtocolError('FIELD_TOO_LARGE', `field of ${length} bytes exceeds ${maxLength}`);
    return length;
  }

  string(maxBytes: number): string {
    const raw = this.bytes(maxBytes);
    try {
      return utf8.decode(raw);
    } catch (cause) {
      throw new ProtocolError('BAD_FIELD', 'string is not valid UTF-8', { cause });
    }
  }

  /** Call after the last field: leftover bytes mean a malformed or smuggled message. */
  end(): void {
    if (this.offset !== this.input.length) {
      throw new ProtocolError('TRAILING_BYTES', `${this.remaining()} unexpected trailing bytes`);
    }
  }
}
