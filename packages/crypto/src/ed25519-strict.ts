/**
 * Public-key screening that makes every Ed25519 backend agree with the noble reference
 * (`zip215: false`), which rejects (RFC 8032 section 5.1.3 / FIPS 186-5 section 7.7.2 strict
 * decoding plus a small-order check):
 *  - non-canonical encodings of A (y >= p), and
 *  - small-order A (the 8-torsion points), which let one signature verify for unrelated messages.
 * OpenSSL (node:crypto) and some WebCrypto engines accept both, so the fast backends call this first.
 * This is a byte comparison against fixed encodings, not curve arithmetic.
 */

/** y-coordinates (little-endian, sign bit cleared) of the small-order points of edwards25519. */
const SMALL_ORDER_Y: readonly (readonly number[])[] = [
  // y = 0: the two points of order 4
  new Array<number>(32).fill(0),
  // y = 1: the identity
  [1, ...new Array<number>(31).fill(0)],
  // y = p - 1: the point of order 2
  [0xec, ...new Array<number>(30).fill(0xff), 0x7f],
  // the four points of order 8 (two y values, each with both signs of x)
  [
    0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
    0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
  ],
  [
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
    0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
  ],
];

function matchesY(publicKey: Uint8Array, y: readonly number[]): boolean {
  for (let i = 0; i < 31; i++) if (publicKey[i] !== y[i]) return false;
  return (publicKey[31]! & 0x7f) === y[31];
}

/** True when y (the low 255 bits) is >= p = 2^255 - 19, i.e. the encoding is not canonical. */
function isNonCanonicalY(publicKey: Uint8Array): boolean {
  if ((publicKey[31]! & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (publicKey[i] !== 0xff) return false;
  return publicKey[0]! >= 0xed;
}

/** False for public keys the strict reference verifier would refuse whatever the signature. Public data: no constant-time need. */
export function isAcceptableEd25519PublicKey(publicKey: Uint8Array): boolean {
  if (isNonCanonicalY(publicKey)) return false;
  for (const y of SMALL_ORDER_Y) if (matchesY(publicKey, y)) return false;
  return true;
}
