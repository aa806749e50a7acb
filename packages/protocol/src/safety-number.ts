/**
 * Safety numbers over account keys, Signal's numeric fingerprint construction
 * (libsignal NumericFingerprintGenerator, version 0 / scannable version 1):
 *   hash = SHA-512(version(u16) || key || stableId || key), then 5199 more rounds of
 *   hash = SHA-512(hash || key); the first 30 bytes give 6 chunks of 5 bytes, each read
 *   big-endian mod 100000 as 5 digits -> 30 digits per side. The two halves are sorted so
 *   both devices show the same 60 digits. The stable id is the 16-byte account id.
 * QR payload: version(1) || our fingerprint(32) || their fingerprint(32) (first 32 bytes of each hash).
 */
import { concatBytes, equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import { KEY_BYTES, SAFETY_NUMBER_ITERATIONS, SAFETY_NUMBER_VERSION, SAFETY_QR_VERSION } from './constants.js';
import { ProtocolError } from './errors.js';
import { accountIdOf } from './identity.js';
import { expectVersion } from './codec-helpers.js';

export const SAFETY_NUMBER_DIGITS = 60;
const FINGERPRINT_BYTES = 32;

async function iteratedHash(crypto: CryptoBackend, accountKey: Uint8Array): Promise<Uint8Array> {
  const id = await accountIdOf(crypto, accountKey);
  const version = Uint8Array.of(SAFETY_NUMBER_VERSION >> 8, SAFETY_NUMBER_VERSION & 0xff);
  let hash = concatBytes(version, accountKey, id);
  const buffer = new Uint8Array(64 + KEY_BYTES);
  buffer.set(accountKey, 64);
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) {
    hash = await crypto.sha512(i === 0 ? concatBytes(hash, accountKey) : (buffer.set(hash, 0), buffer));
  }
  return hash;
}

function digitsOf(hash: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + hash[chunk * 5 + i]!;
    out += String(value % 100000).padStart(5, '0');
  }
  return out;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new ProtocolError('BAD_FIELD', 'account key must be 32 bytes');
}

export async function computeSafetyNumber(
  crypto: CryptoBackend,
  ours: { accountKey: Uint8Array },
  theirs: { accountKey: Uint8Array },
): Promise<{ digits: string; qrPayload: Uint8Array }> {
  checkKey(ours.accountKey);
  checkKey(theirs.accountKey);
  const local = await iteratedHash(crypto, ours.accountKey);
  const remote = await iteratedHash(crypto, theirs.accountKey);
  const a = digitsOf(local);
  const b = digitsOf(remote);
  const digits = a <= b ? a + b : b + a;
  const qrPayload = new Writer(1 + 2 * FINGERPRINT_BYTES)
    .u8(SAFETY_QR_VERSION)
    .fixed(local.subarray(0, FINGERPRINT_BYTES), FINGERPRINT_BYTES)
    .fixed(remote.subarray(0, FINGERPRINT_BYTES), FINGERPRINT_BYTES)
    .finish();
  return { digits, qrPayload };
}

/** 12 groups of 5 digits separated by spaces. Throws BAD_FIELD for anything but 60 digits. */
export function formatSafetyNumber(digits: string): string {
  if (!/^[0-9]{60}$/.test(digits)) throw new ProtocolError('BAD_FIELD', 'a safety number has 60 digits');
  return digits.match(/.{5}/g)!.join(' ');
}

/**
 * Checks a QR payload scanned from the other device: its "ours" must be their key and its
 * "theirs" must be ours. Returns false on a mismatch; a payload that is not a safety-number
 * QR code at all throws a ProtocolError (TRUNCATED, TRAILING_BYTES, UNKNOWN_VERSION).
 */
export async function verifySafetyNumberQr(
  crypto: CryptoBackend,
  ours: { accountKey: Uint8Array },
  theirs: { accountKey: Uint8Array },
  scanned: Uint8Array,
): Promise<boolean> {
  const r = new Reader(scanned);
  expectVersion(r.u8(), SAFETY_QR_VERSION, 'safety number QR');
  const scannedLocal = r.fixed(FINGERPRINT_BYTES);
  const scannedRemote = r.fixed(FINGERPRINT_BYTES);
  r.end();
  const { qrPayload } = await computeSafetyNumber(crypto, ours, theirs);
  const ourFingerprint = qrPayload.subarray(1, 1 + FINGERPRINT_BYTES);
  const theirFingerprint = qrPayload.subarray(1 + FINGERPRINT_BYTES);
  const a = equalBytes(scannedLocal, theirFingerprint);
  const b = equalBytes(scannedRemote, ourFingerprint);
  return a && b;
}
