/**
 * @pigeon/crypto: the primitives facade. Platform-neutral entry (browsers and
 * anything without node:crypto). The Node entry is `index.node.ts`.
 */
export * from './types.js';
export * from './errors.js';
export * from './bytes.js';
export { createNobleBackend } from './backend-noble.js';
