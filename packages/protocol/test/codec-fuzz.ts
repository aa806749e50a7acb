/**
 * Shared checks for every binary decoder (codec.test.ts, group-codec.test.ts): each encoding is
 * one `CodecCase` (real bytes plus its decode/encode pair), and the same hostile inputs are
 * thrown at all of them: cuts, trailing bytes, unknown versions, random bytes and mutations.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../src/index.js';
import { expectCode } from './helpers.js';

export interface CodecCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly decode: (b: Uint8Array) => unknown;
  /** `never`: each case's encoder takes its own type; only ever called with its decoder's output. */
  readonly encode: (v: never) => Uint8Array;
}

export function codecCase(name: string, bytes: Uint8Array, decode: CodecCase['decode'], encode: CodecCase['encode']): CodecCase {
  return { name, bytes, decode, encode };
}

/** Runs `run`; anything it throws must be a ProtocolError (a decoder may refuse, never crash). */
export function onlyProtocolErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `non-protocol error: ${String(error)}`);
  }
}

export function assertRoundTrip(c: CodecCase): void {
  assert.equal(c.bytes[0], 1, c.name);
  assert.deepEqual(c.encode(c.decode(c.bytes) as never), c.bytes, c.name);
}

/**
 * Every cut (each `stride`-th byte: long encodings would make the loop slow) -> a ProtocolError,
 * one trailing byte -> TRAILING_BYTES, version byte `unknownVersion` -> UNKNOWN_VERSION.
 */
export async function assertFramingRefused(c: CodecCase, stride: number, unknownVersion: number): Promise<void> {
  for (let n = 0; n < c.bytes.length; n += stride) {
    assert.throws(() => c.decode(c.bytes.subarray(0, n)), (e) => e instanceof ProtocolError, `${c.name} cut at ${n}`);
  }
  await expectCode(() => c.decode(new Uint8Array([...c.bytes, 0])), 'TRAILING_BYTES');
  await expectCode(() => c.decode(new Uint8Array([unknownVersion, ...c.bytes.subarray(1)])), 'UNKNOWN_VERSION');
}

/**
 * Property: random bytes (bare and behind a valid version byte) and one-byte mutations of a real
 * encoding, cut by 0-2 bytes, only ever raise ProtocolError from any of the `cases`' decoders.
 */
export function assertGarbageOnlyRaisesProtocolErrors(cases: readonly CodecCase[], numRuns: number): void {
  fc.assert(
    fc.property(fc.nat(), fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (which, noise, pos, cut) => {
      const c = cases[which % cases.length]!;
      onlyProtocolErrors(() => c.decode(noise));
      onlyProtocolErrors(() => c.decode(new Uint8Array([1, ...noise])));
      const mutated = c.bytes.slice();
      mutated[pos % mutated.length] = noise[0] ?? 0xff;
      onlyProtocolErrors(() => c.decode(mutated.subarray(0, mutated.length - (cut % 3))));
    }),
    { numRuns },
  );
}
