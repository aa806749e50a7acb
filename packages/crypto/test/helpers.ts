/** Shared test plumbing: every backend under test, vector loading, error-code assertions. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createNobleBackend, createNodeBackend, createWebCryptoBackend, CryptoError, fromHex } from '../src/index.node.js';
import type { CryptoBackend, CryptoErrorCode } from '../src/index.node.js';

export const BACKENDS: readonly CryptoBackend[] = [createNodeBackend(), createWebCryptoBackend(), createNobleBackend()];
export const REFERENCE = BACKENDS[2]!; // noble

/** Vectors stay in test/vectors (tsc does not copy JSON); dist/test/x.js -> ../../test/vectors. */
const VECTOR_DIR = new URL('../../test/vectors/', import.meta.url);
export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, VECTOR_DIR), 'utf8')) as T;
}

export const hex = fromHex;

export async function rejectsWith(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof CryptoError && err.code === code);
}

/** Settle a call to a comparable value: bytes as hex, or the CryptoError code. */
export async function outcome(fn: () => Promise<Uint8Array | boolean>): Promise<string> {
  try {
    const value = await fn();
    return typeof value === 'boolean' ? String(value) : Buffer.from(value).toString('hex');
  } catch (err) {
    if (err instanceof CryptoError) return `error:${err.code}`;
    throw err;
  }
}
