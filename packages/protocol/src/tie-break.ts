/**
 * Deterministic order used to pick one session when both devices initiated at once.
 * Both sides know both base keys, so both pick the same winner. Not secret-dependent
 * (base keys are public), so a plain lexicographic compare is fine.
 */
export function compareBytesForTieBreak(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
