/**
 * Incremental SHA-256 for data that arrives in pieces (attachment blobs are hashed while they
 * stream, each byte once). WebCrypto has no incremental digest, so this entry uses @noble/hashes;
 * the Node entry replaces `createSha256` with node:crypto (incremental-hash.node.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';

export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  /** Call once, after the last update. */
  digest(): Uint8Array;
}

export function createSha256(): IncrementalHash {
  const h = sha256.create();
  return {
    update: (bytes) => void h.update(bytes),
    digest: () => h.digest(),
  };
}
