/** Node entry: same API as index.ts plus the node:crypto backend as the default. */
export * from './index.js';
import { createNobleBackend } from './backend-noble.js';
import type { CryptoBackend } from './types.js';

let cached: CryptoBackend | undefined;
/** The fastest backend this platform offers (TODO: node:crypto backend). */
export function defaultBackend(): CryptoBackend {
  cached ??= createNobleBackend();
  return cached;
}
