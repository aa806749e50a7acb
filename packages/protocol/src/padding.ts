/**
 * Signal-style message padding: plaintext || 0x80 || 0x00..., to a whole number of blocks
 * (160 bytes by default), so ciphertext length only reveals a coarse size bucket. There is
 * always at least the 0x80 marker, so an empty plaintext pads to one full block.
 */
import { MAX_PLAINTEXT_BYTES, PADDING_BLOCK } from './constants.js';
import { ProtocolError } from './errors.js';

const MAX_BLOCK = 1 << 20;

export function padPlaintext(plaintext: Uint8Array, block = PADDING_BLOCK): Uint8Array {
  if (!Number.isInteger(block) || block < 1 || block > MAX_BLOCK) throw new ProtocolError('BAD_FIELD', `bad padding block ${block}`);
  const padded = new Uint8Array((Math.floor(plaintext.length / block) + 1) * block);
  padded.set(plaintext);
  padded[plaintext.length] = 0x80;
  return padded;
}

/** Strips the padding; throws BAD_PADDING when the 0x80 marker is missing or followed by non-zero bytes. */
export function unpadPlaintext(padded: Uint8Array): Uint8Array {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80) throw new ProtocolError('BAD_PADDING', 'padding marker missing');
  return padded.slice(0, i);
}

/** sessionEncrypt refuses plaintexts whose envelope would not fit the relay's limit. */
export function checkPlaintextSize(plaintext: Uint8Array): void {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new ProtocolError('FIELD_TOO_LARGE', `plaintext of ${plaintext.length} bytes exceeds ${MAX_PLAINTEXT_BYTES}`);
  }
}

