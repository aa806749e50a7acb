/** Node entry: same API as index.ts, plus `createNodeBackend`, with node:crypto as the default. */
export * from './index.js';
export { createNodeBackend } from './backend-node.node.js';
// Shadows the noble one re-exported from index.ts: OpenSSL is several times faster.
export { createSha256 } from './incremental-hash.node.js';
import { createNodeBackend, nodeBackendSelfTest } from './backend-node.node.js';
import { createNobleBackend } from './backend-noble.js';
import type { CryptoBackend } from './types.js';

let cached: CryptoBackend | undefined;
/**
 * The fastest backend this platform offers: node:crypto, unless its X25519/Ed25519 fail a
 * known-answer self-test (e.g. an OpenSSL built without them), then noble.
 */
export function defaultBackend(): CryptoBackend {
  cached ??= nodeBackendSelfTest() ? createNodeBackend() : createNobleBackend();
  return cached;
}
