/**
 * WebSocket client frames built by hand (RFC 6455 5.2) for the wire tests: any opcode, FIN/RSV
 * bits, masked or not, any length encoding, even lengths that lie about the payload.
 */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** FIN bit (default true). */
  readonly fin?: boolean;
  /** RSV1-3 as a 3-bit number (default 0). */
  readonly rsv?: number;
  /** Masking key; `null` sends the frame unmasked. */
  readonly mask?: readonly [number, number, number, number] | null;
  /** Length encoding (default: the minimal one). */
  readonly lengthBits?: 7 | 16 | 64;
  /** Overrides the declared length (the payload bytes written stay as given). */
  readonly declaredLength?: number;
  /** The high 32 bits of a 64-bit length. */
  readonly highWord?: number;
}

const DEFAULT_MASK = [0x37, 0xfa, 0x21, 0x3d] as const;

export function bytes(p: Uint8Array | string | undefined): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
}

/** One client frame as RFC 6455 5.2 lays it out. */
export function clientFrame(spec: FrameSpec): Buffer {
  const payload = bytes(spec.payload);
  const length = spec.declaredLength ?? payload.length;
  const bits = spec.lengthBits ?? (length < 126 ? 7 : length < 0x10000 ? 16 : 64);
  const mask = spec.mask === undefined ? DEFAULT_MASK : spec.mask;
  const b0 = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  const maskBit = mask === null ? 0 : 0x80;
  let header: Buffer;
  if (bits === 7) {
    header = Buffer.from([b0, maskBit | length]);
  } else if (bits === 16) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = maskBit | 127;
    header.writeUInt32BE(spec.highWord ?? 0, 2);
    header.writeUInt32BE(length, 6);
  }
  if (mask === null) return Buffer.concat([header, payload]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, Buffer.from(mask), masked]);
}

export const closeBody = (code: number, reason: Uint8Array | string = ''): Buffer => {
  const r = bytes(reason);
  const out = Buffer.alloc(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
};

