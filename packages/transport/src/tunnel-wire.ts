/**
 * The tunnel's wire format (docs/transport.md "Tunnel"). Each HTTPS exchange is one POST whose
 * body is a request record and whose 200 response body is a response record. Both directions
 * are byte streams numbered by offset (like TCP sequence numbers): a request says where its
 * upstream bytes start and how much downstream it has received; a response says how much upstream
 * the bridge holds and where its downstream bytes start. Any exchange may be lost and retried on a
 * new connection: overlap is skipped by offset, so nothing is lost or duplicated.
 *
 * Request:  [version u8 = 1][op u8][session 16][upOffset u64][ackDown u64][maxDown u32][data]
 * Response: [version u8 = 1][status u8][ackUp u64][downOffset u64][data]
 * Inside each stream, relay frames are length-prefixed: [length u32][frame].
 */
import { Reader, Writer } from '@pigeon/protocol';
import { TransportError } from './errors.js';

export const TUNNEL_VERSION = 1;
export const TUNNEL_SESSION_BYTES = 16;
export const TUNNEL_REQUEST_HEADER_BYTES = 1 + 1 + TUNNEL_SESSION_BYTES + 8 + 8 + 4;
export const TUNNEL_RESPONSE_HEADER_BYTES = 1 + 1 + 8 + 8;

export const TUNNEL_OPS = { data: 1, poll: 2, close: 3 } as const;
export type TunnelOp = keyof typeof TUNNEL_OPS;
export const TUNNEL_STATUS = { ok: 0, unknownSession: 1, closed: 2, gap: 3 } as const;
export type TunnelStatus = keyof typeof TUNNEL_STATUS;

export interface TunnelRequest {
  readonly op: TunnelOp;
  readonly session: Uint8Array;
  readonly upOffset: number;
  readonly ackDown: number;
  /** Most downstream bytes the response may carry (the connection's remaining budget). */
  readonly maxDown: number;
  readonly data: Uint8Array;
}

export interface TunnelResponse {
  readonly status: TunnelStatus;
  readonly ackUp: number;
  readonly downOffset: number;
  readonly data: Uint8Array;
}

const OP_NAMES = Object.fromEntries(Object.entries(TUNNEL_OPS).map(([k, v]) => [v, k])) as Record<number, TunnelOp>;
const STATUS_NAMES = Object.fromEntries(Object.entries(TUNNEL_STATUS).map(([k, v]) => [v, k])) as Record<number, TunnelStatus>;

export function encodeTunnelRequest(r: TunnelRequest): Uint8Array {
  const w = new Writer(TUNNEL_REQUEST_HEADER_BYTES + r.data.length)
    .u8(TUNNEL_VERSION)
    .u8(TUNNEL_OPS[r.op])
    .fixed(r.session, TUNNEL_SESSION_BYTES)
    .u64(r.upOffset)
    .u64(r.ackDown)
    .u32(r.maxDown)
    .finish();
  const out = new Uint8Array(w.length + r.data.length);
  out.set(w);
  out.set(r.data, w.length);
  return out;
}

export function decodeTunnelRequest(bytes: Uint8Array): TunnelRequest {
  try {
    const r = new Reader(bytes.subarray(0, TUNNEL_REQUEST_HEADER_BYTES));
    if (r.u8() !== TUNNEL_VERSION) throw new TransportError('TUNNEL_FAILED', 'unknown tunnel version');
    const op = OP_NAMES[r.u8()];
    if (op === undefined) throw new TransportError('TUNNEL_FAILED', 'unknown tunnel op');
    const session = r.fixed(TUNNEL_SESSION_BYTES);
    const upOffset = r.u64();
    const ackDown = r.u64();
    const maxDown = r.u32();
    r.end();
    return { op, session, upOffset, ackDown, maxDown, data: bytes.subarray(TUNNEL_REQUEST_HEADER_BYTES) };
  } catch (cause) {
    if (cause instanceof TransportError) throw cause;
    throw new TransportError('TUNNEL_FAILED', 'malformed tunnel request', { cause });
  }
}

export function encodeTunnelResponse(r: TunnelResponse): Uint8Array {
  const w = new Writer(TUNNEL_RESPONSE_HEADER_BYTES).u8(TUNNEL_VERSION).u8(TUNNEL_STATUS[r.status]).u64(r.ackUp).u64(r.downOffset).finish();
  const out = new Uint8Array(w.length + r.data.length);
  out.set(w);
  out.set(r.data, w.length);
  return out;
}

export function decodeTunnelResponse(bytes: Uint8Array): TunnelResponse {
  try {
    const r = new Reader(bytes.subarray(0, TUNNEL_RESPONSE_HEADER_BYTES));
    if (r.u8() !== TUNNEL_VERSION) throw new TransportError('TUNNEL_FAILED', 'unknown tunnel version');
    const status = STATUS_NAMES[r.u8()];
    if (status === undefined) throw new TransportError('TUNNEL_FAILED', 'unknown tunnel status');
    const ackUp = r.u64();
    const downOffset = r.u64();
    r.end();
    return { status, ackUp, downOffset, data: bytes.subarray(TUNNEL_RESPONSE_HEADER_BYTES) };
  } catch (cause) {
    if (cause instanceof TransportError) throw cause;
    throw new TransportError('TUNNEL_FAILED', 'malformed tunnel response', { cause });
  }
}

/** Frames inside a tunnel stream: [length u32][frame]. */
export function frameRecord(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  new DataView(out.buffer).setUint32(0, frame.length);
  out.set(frame, 4);
  return out;
}

/**
 * Reassembles length-prefixed frames from stream bytes arriving in arbitrary pieces. A length
 * above `maxFrame` is a protocol violation (the caller closes the session).
 */
export class FrameReassembler {
  private buf = new Uint8Array(0);
  constructor(private readonly maxFrame: number) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    const frames: Uint8Array[] = [];
    let pos = 0;
    while (joined.length - pos >= 4) {
      const len = new DataView(joined.buffer, joined.byteOffset + pos, 4).getUint32(0);
      if (len > this.maxFrame) throw new TransportError('TUNNEL_FAILED', 'tunnel frame too large');
      if (joined.length - pos - 4 < len) break;
      frames.push(joined.slice(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    this.buf = joined.slice(pos);
    return frames;
  }
}

/**
 * Bytes sent but not yet acknowledged, addressed by stream offset. Both ends use it: the client for
 * upstream, the bridge for downstream.
 */
export class OffsetBuffer {
  private chunks: Uint8Array[] = [];
  /** Offset of the first byte still held. */
  base = 0;
  /** Bytes held. */
  length = 0;

  get end(): number {
    return this.base + this.length;
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** Drops everything below `offset` (an ack). Offsets outside [base, end] are ignored. */
  ackTo(offset: number): void {
    if (offset <= this.base || offset > this.end) return;
    let drop = offset - this.base;
    this.base = offset;
    this.length -= drop;
    while (drop > 0 && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      if (first.length <= drop) {
        drop -= first.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = first.subarray(drop);
        drop = 0;
      }
    }
  }

  /** Up to `max` bytes starting at `offset` (clamped to what is held). */
  read(offset: number, max: number): Uint8Array {
    const start = Math.max(offset, this.base);
    const n = Math.max(0, Math.min(max, this.end - start));
    const out = new Uint8Array(n);
    let skip = start - this.base;
    let pos = 0;
    for (const c of this.chunks) {
      if (pos >= n) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const part = c.subarray(skip, skip + (n - pos));
      out.set(part, pos);
      pos += part.length;
      skip = 0;
    }
    return out;
  }
}
