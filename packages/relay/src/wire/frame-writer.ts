/**
 * Server-to-client WebSocket frames (RFC 6455 5.2): never masked, never fragmented. The frames a
 * socket sends during one tick are laid out back to back in one buffer (wire-socket.ts), so the
 * writer only needs each frame's header size and a way to write header + payload at an offset.
 */

export function headerSize(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/** Writes one final frame (header and payload) into `out` at `offset`; returns the offset after it. */
export function writeFrame(out: Buffer, offset: number, opcode: number, payload: Uint8Array): number {
  const n = payload.length;
  out[offset] = 0x80 | opcode;
  if (n < 126) {
    out[offset + 1] = n;
    offset += 2;
  } else if (n < 0x10000) {
    out[offset + 1] = 126;
    out.writeUInt16BE(n, offset + 2);
    offset += 4;
  } else {
    out[offset + 1] = 127;
    out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), offset + 2);
    out.writeUInt32BE(n >>> 0, offset + 6);
    offset += 10;
  }
  out.set(payload, offset);
  return offset + n;
}

/** The payload of a close frame: the code, then a reason clipped to fit 125 bytes on a character boundary. */
export function closePayload(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) {
    let cut = 123;
    while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--; // do not split a UTF-8 sequence
    text = text.subarray(0, cut);
  }
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}
