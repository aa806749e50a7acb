/**
 * The benchmark payload. Every message carries a pre-built 256-byte "ciphertext" (random bytes
 * made once; the relay never decrypts) whose first 24 bytes are overwritten per send:
 *   [0..8)   float64 LE send time, ms since the epoch (performance.timeOrigin + now(); all
 *            processes read the same machine clock, so the recipient computes the latency)
 *   [8..12)  u32 LE step number   [12..16) u32 LE driver index   [16..24) float64 LE sequence
 * XMPP carries the same 256 bytes base64-encoded in <body> (344 characters).
 */
import { randomBytes } from 'node:crypto';
import { now } from '../common/load-step.js';

export const PAYLOAD_BYTES = 256;
const POOL_SIZE = 64;

export interface PayloadHeader {
  readonly sentAt: number;
  readonly step: number;
  readonly driver: number;
  readonly seq: number;
}

export class PayloadPool {
  private readonly pool = Array.from({ length: POOL_SIZE }, () => new Uint8Array(randomBytes(PAYLOAD_BYTES)));
  private next = 0;

  /** A payload stamped now; valid until POOL_SIZE later calls (the socket copies it on send). */
  stamp(step: number, driver: number, seq: number): { bytes: Uint8Array; sentAt: number } {
    const bytes = this.pool[this.next++ % POOL_SIZE]!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sentAt = now();
    view.setFloat64(0, sentAt, true);
    view.setUint32(8, step, true);
    view.setUint32(12, driver, true);
    view.setFloat64(16, seq, true);
    return { bytes, sentAt };
  }
}

export function readHeader(bytes: Uint8Array): PayloadHeader | undefined {
  if (bytes.length !== PAYLOAD_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { sentAt: view.getFloat64(0, true), step: view.getUint32(8, true), driver: view.getUint32(12, true), seq: view.getFloat64(16, true) };
}
