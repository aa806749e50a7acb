/** Node's incremental SHA-256 (OpenSSL), same contract as incremental-hash.ts. */
import { createHash } from 'node:crypto';
import type { IncrementalHash } from './incremental-hash.js';

export function createSha256(): IncrementalHash {
  const h = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    // A plain Uint8Array that owns its memory (never a view into Node's Buffer pool).
    digest: () => new Uint8Array(h.digest()),
  };
}
