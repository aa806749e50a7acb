/**
 * @pigeon/crypto: the primitives facade. Platform-neutral entry (browsers and
 * anything without node:crypto). The Node entry is `index.node.ts`.
 */
import { createNobleBackend } from './backend-noble.js';
import { createWebCryptoBackend, webCryptoGlobal } from './backend-webcrypto.js';
import type { CryptoBackend } from './types.js';

export * from './types.js';
export * from './errors.js';
export * from './bytes.js';
export { createNobleBackend } from './backend-noble.js';
export { createWebCryptoBackend } from './backend-webcrypto.js';
export { HKDF_MAX_BLOCKS, MAX_RANDOM_BYTES } from './checks.js';
export { createSha256, type IncrementalHash } from './incremental-hash.js';

/**
 * The best backend of a browser-like runtime: WebCrypto when `crypto.subtle` works (checked with a
 * SHA-256 known answer: subtle is missing or throws outside secure contexts), else noble.
 * X25519/Ed25519 support inside WebCrypto is probed per primitive by that backend itself.
 */
export async function selectBrowserBackend(): Promise<CryptoBackend> {
  if (webCryptoGlobal() !== undefined) {
    try {
      const backend = createWebCryptoBackend();
      // FIPS 180-4 example: SHA-256("abc")
      const digest = await backend.sha256(Uint8Array.of(0x61, 0x62, 0x63));
      if (digest[0] === 0xba && digest[31] === 0xad) return backend;
    } catch {
      // fall through to the portable backend
    }
  }
  return createNobleBackend();
}

let cached: CryptoBackend | undefined;
/**
 * A synchronous default for code that cannot await: noble here. Browsers should prefer
 * `await selectBrowserBackend()`; the Node entry replaces this with the node:crypto backend.
 */
export function defaultBackend(): CryptoBackend {
  cached ??= createNobleBackend();
  return cached;
}
