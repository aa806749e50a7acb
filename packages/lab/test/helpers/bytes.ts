import { createHash } from 'node:crypto';

/** Deterministic "random-looking" bytes (SHA-256 in counter mode): what a fully encrypted protocol sends. */
export function pseudoRandom(n: number, label = 'lab'): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i * 32 < n; i++) out.set(createHash('sha256').update(`${label}/${i}`).digest().subarray(0, Math.min(32, n - i * 32)), i * 32);
  return out;
}

