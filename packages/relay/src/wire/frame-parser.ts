/**
 * Incremental parser of the frames a WebSocket client sends (RFC 6455 section 5), for the
 * relay's own socket layer (wire-socket.ts). Bytes in, events out; no I/O.
 *
 * It accepts exactly what a server must: masked frames, no extensions (RSV bits clear), data
 * frames possibly fragmented, control frames (close, ping, pong) at most 125 bytes and never
 * fragmented, interleaved with fragments. A message larger than `maxPayload` is refused before
 * its bytes are buffered. The first violation ends parsing with the close code the RFC assigns
 * (1002 protocol error, 1007 bad UTF-8, 1009 too big); later bytes are ignored.
 *
 * Chunks are kept until a whole frame is there (`needed`), then joined once, so a large frame
 * arriving in many small chunks costs linear time, not quadratic. Payloads are unmasked in place
 * and handed out as views of the received chunk: the listener must copy what it keeps.
 */
import { isUtf8 } from 'node:buffer';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Close codes this layer sends on its own (RFC 6455 section 7.4.1). */
export const WIRE_CLOSE = { normal: 1000, protocolError: 1002, invalidData: 1007, tooBig: 1009, noStatus: 1005 } as const;

const MAX_CONTROL_PAYLOAD = 125;

export interface FrameListener {
  /** A whole data message (fragments joined). `data` is only valid during the call. */
  dataFrame(data: Buffer, isBinary: boolean): void;
  pingFrame(payload: Buffer): void;
  pongFrame(payload: Buffer): void;
  /** The peer's close frame; `code` is 1005 when it carried none. */
  closeFrame(code: number, reason: string): void;
  /** A protocol violation: close with `code`; the parser has stopped. */
  protocolError(code: number, reason: string): void;
}

/** A close code a peer may send (RFC 6455 7.4.1 and 7.4.2: not 1004-1006, 1015, or unassigned). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes that must be buffered before parsing can move on. */
  private needed = 2;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  /** Opcode of the fragmented message in progress, or -1. */
  private fragmentOpcode = -1;
  private stopped = false;

  constructor(
    private readonly maxPayload: number,
    private readonly listener: FrameListener,
  ) {}

  /** No more frames will be parsed (after an error or the peer's close frame). */
  get done(): boolean {
    return this.stopped;
  }

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    const used = this.parse(data);
    if (!this.stopped && used < data.length) {
      this.chunks.push(data.subarray(used));
      this.buffered = data.length - used;
    }
  }

  /** Parses whole frames from `data`; returns how many bytes were consumed and sets `needed`. */
  private parse(data: Buffer): number {
    let offset = 0;
    while (!this.stopped) {
      const available = data.length - offset;
      if (available < 2) {
        this.needed = 2;
        return offset;
      }
      const b0 = data[offset]!;
      const b1 = data[offset + 1]!;
      // Checked on the first two bytes: a short unmasked frame never completes a masked header.
      if ((b0 & 0x70) !== 0) return this.fail(WIRE_CLOSE.protocolError, 'reserved bits set');
      if ((b1 & 0x80) === 0) return this.fail(WIRE_CLOSE.protocolError, 'client frames must be masked');
      const lengthCode = b1 & 0x7f;
      const headerBytes = 2 + (lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0) + 4;
      if (available < headerBytes) {
        this.needed = headerBytes;
        return offset;
      }
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      let length: number;
      if (lengthCode === 126) length = data.readUInt16BE(offset + 2);
      else if (lengthCode === 127) {
        const high = data.readUInt32BE(offset + 2);
        // Anything past 2^32 is far beyond any limit; refuse without building the number.
        if (high !== 0) return this.fail(WIRE_CLOSE.tooBig, 'frame too big');
        length = data.readUInt32BE(offset + 6);
      } else length = lengthCode;

      const control = opcode >= 0x8;
      if (control) {
        if (opcode !== OPCODE.close && opcode !== OPCODE.ping && opcode !== OPCODE.pong) return this.fail(WIRE_CLOSE.protocolError, 'unknown opcode');
        if (!fin) return this.fail(WIRE_CLOSE.protocolError, 'fragmented control frame');
        if (length > MAX_CONTROL_PAYLOAD) return this.fail(WIRE_CLOSE.protocolError, 'control frame too long');
      } else {
        if (opcode !== OPCODE.continuation && opcode !== OPCODE.text && opcode !== OPCODE.binary) return this.fail(WIRE_CLOSE.protocolError, 'unknown opcode');
        if (opcode === OPCODE.continuation && this.fragmentOpcode < 0) return this.fail(WIRE_CLOSE.protocolError, 'continuation without a message');
        if (opcode !== OPCODE.continuation && this.fragmentOpcode >= 0) return this.fail(WIRE_CLOSE.protocolError, 'new message inside a fragmented one');
        if (this.fragmentBytes + length > this.maxPayload) return this.fail(WIRE_CLOSE.tooBig, 'message too big');
      }
      if (available < headerBytes + length) {
        this.needed = headerBytes + length;
        return offset;
      }
      const maskAt = offset + headerBytes - 4;
      const payload = data.subarray(offset + headerBytes, offset + headerBytes + length);
      unmask(payload, data[maskAt]!, data[maskAt + 1]!, data[maskAt + 2]!, data[maskAt + 3]!);
      offset += headerBytes + length;
      if (control) this.onControl(opcode, payload);
      else this.onData(opcode, fin, payload);
    }
    return offset;
  }

  private onData(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode !== OPCODE.continuation && fin) {
      this.deliver(opcode, payload);
      return;
    }
    if (opcode !== OPCODE.continuation) this.fragmentOpcode = opcode;
    // Copied: a small view would keep the whole received chunk alive until the message ends.
    this.fragments.push(Buffer.from(payload));
    this.fragmentBytes += payload.length;
    if (!fin) return;
    const whole = Buffer.concat(this.fragments, this.fragmentBytes);
    const first = this.fragmentOpcode;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOpcode = -1;
    this.deliver(first, whole);
  }

  private deliver(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE.text && !isUtf8(payload)) {
      this.fail(WIRE_CLOSE.invalidData, 'text frame is not UTF-8');
      return;
    }
    this.listener.dataFrame(payload, opcode === OPCODE.binary);
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE.ping) return this.listener.pingFrame(payload);
    if (opcode === OPCODE.pong) return this.listener.pongFrame(payload);
    // close
    if (payload.length === 1) return void this.fail(WIRE_CLOSE.protocolError, 'close payload of one byte');
    let code: number = WIRE_CLOSE.noStatus;
    let reason = '';
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!isValidCloseCode(code)) return void this.fail(WIRE_CLOSE.protocolError, 'invalid close code');
      const text = payload.subarray(2);
      if (!isUtf8(text)) return void this.fail(WIRE_CLOSE.invalidData, 'close reason is not UTF-8');
      reason = text.toString('utf8');
    }
    this.stop();
    this.listener.closeFrame(code, reason);
  }

  private fail(code: number, reason: string): number {
    this.stop();
    this.listener.protocolError(code, reason);
    return 0;
  }

  private stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
    this.fragments = [];
  }
}

/** XORs the 4-byte masking key over `payload` in place (RFC 6455 5.3). */
function unmask(payload: Buffer, m0: number, m1: number, m2: number, m3: number): void {
  const n = payload.length;
  let i = 0;
  for (const end = n - 3; i < end; i += 4) {
    payload[i] = payload[i]! ^ m0;
    payload[i + 1] = payload[i + 1]! ^ m1;
    payload[i + 2] = payload[i + 2]! ^ m2;
    payload[i + 3] = payload[i + 3]! ^ m3;
  }
  if (i < n) payload[i] = payload[i]! ^ m0;
  if (i + 1 < n) payload[i + 1] = payload[i + 1]! ^ m1;
  if (i + 2 < n) payload[i + 2] = payload[i + 2]! ^ m2;
}
