/**
 * Prekeys (PQXDH spec section 3.2): a signed X25519 prekey, one-time X25519 prekeys, and
 * ML-KEM-1024 prekeys (signed; one-time or last resort). Signatures are made by the
 * device signing key (certified by the account key) over label || kind || id || public key,
 * so a signature for one kind or id can never be replayed as another.
 */
import type { CryptoBackend, KeyPair } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import {
  KEM_PUBLIC_KEY_BYTES,
  KEM_SECRET_KEY_BYTES,
  KEY_BYTES,
  LABEL_PREKEY_SIGNATURE,
  PREKEY_STORAGE_VERSION,
  SIGNATURE_BYTES,
} from './constants.js';
import { ProtocolError } from './errors.js';
import type { DeviceKeys } from './identity.js';
import { protectKeyPair } from './redact.js';
import { expectVersion } from './codec-helpers.js';

export interface SignedPreKeyPair {
  readonly id: number;
  readonly keyPair: KeyPair;
  readonly signature: Uint8Array;
  readonly createdAt: number;
}
export interface OneTimePreKeyPair {
  readonly id: number;
  readonly keyPair: KeyPair;
}
export interface KemPreKeyPair {
  readonly id: number;
  readonly keyPair: KeyPair;
  readonly signature: Uint8Array;
  readonly createdAt: number;
  readonly lastResort: boolean;
}

export type PreKeyKind = 'signed' | 'kem';
const KIND_BYTE: Record<PreKeyKind, number> = { signed: 1, kem: 2 };
const PUBLIC_KEY_BYTES: Record<PreKeyKind, number> = { signed: KEY_BYTES, kem: KEM_PUBLIC_KEY_BYTES };
export const MAX_PREKEY_ID = 0xffffffff;

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PREKEY_ID) throw new ProtocolError('BAD_FIELD', `prekey id out of range: ${id}`);
}

export function preKeySignedBytes(kind: PreKeyKind, id: number, publicKey: Uint8Array): Uint8Array {
  checkId(id);
  return new Writer(LABEL_PREKEY_SIGNATURE.length + 5 + publicKey.length)
    .fixed(LABEL_PREKEY_SIGNATURE, LABEL_PREKEY_SIGNATURE.length)
    .u8(KIND_BYTE[kind])
    .u32(id)
    .fixed(publicKey, PUBLIC_KEY_BYTES[kind])
    .finish();
}

/**
 * Checks a prekey signature by the device signing key. Throws BAD_SIGNATURE on failure and
 * resolves to `true` on success, so both `await verify(...)` and `if (await verify(...))`
 * are safe to write.
 */
export async function verifyPreKeySignature(
  crypto: CryptoBackend,
  deviceSigningKey: Uint8Array,
  kind: PreKeyKind,
  id: number,
  publicKey: Uint8Array,
  signature: Uint8Array,
): Promise<true> {
  if (kind !== 'signed' && kind !== 'kem') throw new ProtocolError('BAD_FIELD', 'unknown prekey kind');
  if (publicKey.length !== PUBLIC_KEY_BYTES[kind]) throw new ProtocolError('BAD_FIELD', 'prekey public key has the wrong length');
  const ok = await crypto.ed25519Verify(deviceSigningKey, preKeySignedBytes(kind, id, publicKey), signature);
  if (!ok) throw new ProtocolError('BAD_SIGNATURE', `${kind} prekey ${id} signature does not verify`);
  return true;
}

export async function generateSignedPreKey(crypto: CryptoBackend, device: DeviceKeys, id: number, now: number): Promise<SignedPreKeyPair> {
  checkId(id);
  const keyPair = await crypto.x25519GenerateKeyPair();
  const signature = await crypto.ed25519Sign(device.signing.secretKey, preKeySignedBytes('signed', id, keyPair.publicKey));
  return { id, keyPair: protectKeyPair(keyPair), signature, createdAt: Math.floor(now) };
}

export async function generateOneTimePreKeys(crypto: CryptoBackend, firstId: number, count: number): Promise<OneTimePreKeyPair[]> {
  checkId(firstId);
  if (!Number.isInteger(count) || count < 0 || firstId + count - 1 > MAX_PREKEY_ID) {
    throw new ProtocolError('BAD_FIELD', 'one-time prekey count out of range');
  }
  const out: OneTimePreKeyPair[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ id: firstId + i, keyPair: protectKeyPair(await crypto.x25519GenerateKeyPair()) });
  }
  return out;
}

export async function generateKemPreKey(
  crypto: CryptoBackend,
  device: DeviceKeys,
  id: number,
  lastResort: boolean,
  now: number,
): Promise<KemPreKeyPair> {
  checkId(id);
  const keyPair = await crypto.mlKem1024GenerateKeyPair();
  const signature = await crypto.ed25519Sign(device.signing.secretKey, preKeySignedBytes('kem', id, keyPair.publicKey));
  return { id, keyPair: protectKeyPair(keyPair), signature, createdAt: Math.floor(now), lastResort };
}

// ---- local storage ----

export function encodeSignedPreKey(k: SignedPreKeyPair): Uint8Array {
  return new Writer(1 + 4 + 2 * KEY_BYTES + SIGNATURE_BYTES + 8)
    .u8(PREKEY_STORAGE_VERSION)
    .u32(k.id)
    .fixed(k.keyPair.secretKey, KEY_BYTES)
    .fixed(k.keyPair.publicKey, KEY_BYTES)
    .fixed(k.signature, SIGNATURE_BYTES)
    .u64(k.createdAt)
    .finish();
}

export function decodeSignedPreKey(bytes: Uint8Array): SignedPreKeyPair {
  const r = new Reader(bytes);
  expectVersion(r.u8(), PREKEY_STORAGE_VERSION, 'signed prekey');
  const id = r.u32();
  const keyPair = protectKeyPair({ secretKey: r.fixed(KEY_BYTES), publicKey: r.fixed(KEY_BYTES) });
  const signature = r.fixed(SIGNATURE_BYTES);
  const createdAt = r.u64();
  r.end();
  return { id, keyPair, signature, createdAt };
}

export function encodeOneTimePreKey(k: OneTimePreKeyPair): Uint8Array {
  return new Writer(1 + 4 + 2 * KEY_BYTES)
    .u8(PREKEY_STORAGE_VERSION)
    .u32(k.id)
    .fixed(k.keyPair.secretKey, KEY_BYTES)
    .fixed(k.keyPair.publicKey, KEY_BYTES)
    .finish();
}

export function decodeOneTimePreKey(bytes: Uint8Array): OneTimePreKeyPair {
  const r = new Reader(bytes);
  expectVersion(r.u8(), PREKEY_STORAGE_VERSION, 'one-time prekey');
  const id = r.u32();
  const keyPair = protectKeyPair({ secretKey: r.fixed(KEY_BYTES), publicKey: r.fixed(KEY_BYTES) });
  r.end();
  return { id, keyPair };
}

export function encodeKemPreKey(k: KemPreKeyPair): Uint8Array {
  return new Writer(1 + 4 + KEM_SECRET_KEY_BYTES + KEM_PUBLIC_KEY_BYTES + SIGNATURE_BYTES + 9)
    .u8(PREKEY_STORAGE_VERSION)
    .u32(k.id)
    .fixed(k.keyPair.secretKey, KEM_SECRET_KEY_BYTES)
    .fixed(k.keyPair.publicKey, KEM_PUBLIC_KEY_BYTES)
    .fixed(k.signature, SIGNATURE_BYTES)
    .u64(k.createdAt)
    .bool(k.lastResort)
    .finish();
}

export function decodeKemPreKey(bytes: Uint8Array): KemPreKeyPair {
  const r = new Reader(bytes);
  expectVersion(r.u8(), PREKEY_STORAGE_VERSION, 'KEM prekey');
  const id = r.u32();
  const keyPair = protectKeyPair({ secretKey: r.fixed(KEM_SECRET_KEY_BYTES), publicKey: r.fixed(KEM_PUBLIC_KEY_BYTES) });
  const signature = r.fixed(SIGNATURE_BYTES);
  const createdAt = r.u64();
  const lastResort = r.bool();
  r.end();
  return { id, keyPair, signature, createdAt, lastResort };
}
