/**
 * Identities without phone numbers (DESIGN.md "Identity"): an Ed25519 account key certifies
 * each device's Ed25519 signing key and X25519 identity key, as WhatsApp's multi-device
 * whitepaper does for companion devices. The ids are short hashes of the public keys.
 */
import { concatBytes, equalBytes } from '@pigeon/crypto';
import type { CryptoBackend, KeyPair } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import {
  CERTIFICATE_BYTES,
  CERTIFICATE_VERSION,
  ID_BYTES,
  KEY_BYTES,
  KEY_STORAGE_VERSION,
  LABEL_CERTIFICATE,
  LABEL_RELAY_AUTH,
  MAX_AUTH_NONCE_BYTES,
  MAX_CERTIFICATE_BYTES,
  SIGNATURE_BYTES,
} from './constants.js';
import { ProtocolError } from './errors.js';
import { protectKeyPair, redacted } from './redact.js';
import { expectVersion } from './codec-helpers.js';

export interface AccountKeys {
  readonly signing: KeyPair;
}

export interface DeviceCertificate {
  readonly accountKey: Uint8Array;
  readonly deviceSigningKey: Uint8Array;
  /** X25519 identity key: IK in PQXDH and the static key in sealed sender. */
  readonly deviceIdentityKey: Uint8Array;
  readonly createdAt: number;
  readonly signature: Uint8Array;
}

export interface DeviceKeys {
  readonly signing: KeyPair;
  readonly identity: KeyPair;
  readonly certificate: DeviceCertificate;
}

function makeAccountKeys(signing: KeyPair): AccountKeys {
  return redacted({ signing: protectKeyPair(signing) }, () => ({
    type: 'AccountKeys',
    signing: '[redacted]',
  }));
}

function makeDeviceKeys(signing: KeyPair, identity: KeyPair, certificate: DeviceCertificate): DeviceKeys {
  return redacted(
    { signing: protectKeyPair(signing), identity: protectKeyPair(identity), certificate },
    () => ({ type: 'DeviceKeys', signing: '[redacted]', identity: '[redacted]', certificate }),
  );
}

export async function createAccountKeys(crypto: CryptoBackend): Promise<AccountKeys> {
  return makeAccountKeys(await crypto.ed25519GenerateKeyPair());
}

/** The bytes the account key signs: label || version || signing key || identity key || createdAt. */
function certificateSignedBytes(deviceSigningKey: Uint8Array, deviceIdentityKey: Uint8Array, createdAt: number): Uint8Array {
  return new Writer(LABEL_CERTIFICATE.length + 1 + 2 * KEY_BYTES + 8)
    .fixed(LABEL_CERTIFICATE, LABEL_CERTIFICATE.length)
    .u8(CERTIFICATE_VERSION)
    .fixed(deviceSigningKey, KEY_BYTES)
    .fixed(deviceIdentityKey, KEY_BYTES)
    .u64(createdAt)
    .finish();
}

export async function createDeviceKeys(crypto: CryptoBackend, account: AccountKeys, now: number): Promise<DeviceKeys> {
  const signing = await crypto.ed25519GenerateKeyPair();
  const identity = await crypto.x25519GenerateKeyPair();
  const certificate = await certifyDevice(crypto, account, signing.publicKey, identity.publicKey, now);
  return makeDeviceKeys(signing, identity, certificate);
}

/**
 * The account key certifies another device's public keys (linking, docs/protocol.md §13.2):
 * the new device keeps its secrets, the existing device keeps the account secret.
 */
export async function certifyDevice(
  crypto: CryptoBackend,
  account: AccountKeys,
  deviceSigningKey: Uint8Array,
  deviceIdentityKey: Uint8Array,
  now: number,
): Promise<DeviceCertificate> {
  const createdAt = Math.floor(now);
  const signature = await crypto.ed25519Sign(account.signing.secretKey, certificateSignedBytes(deviceSigningKey, deviceIdentityKey, createdAt));
  return {
    accountKey: account.signing.publicKey.slice(),
    deviceSigningKey: deviceSigningKey.slice(),
    deviceIdentityKey: deviceIdentityKey.slice(),
    createdAt,
    signature,
  };
}

/** Device keys from key pairs generated earlier and the certificate received for them (BAD_FIELD if they differ). */
export function deviceKeysFromParts(signing: KeyPair, identity: KeyPair, certificate: DeviceCertificate): DeviceKeys {
  if (!equalBytes(certificate.deviceSigningKey, signing.publicKey) || !equalBytes(certificate.deviceIdentityKey, identity.publicKey)) {
    throw new ProtocolError('BAD_FIELD', 'device keys do not match their certificate');
  }
  return makeDeviceKeys(signing, identity, certificate);
}

export function writeDeviceCertificate(w: Writer, cert: DeviceCertificate): Writer {
  return w
    .u8(CERTIFICATE_VERSION)
    .fixed(cert.accountKey, KEY_BYTES)
    .fixed(cert.deviceSigningKey, KEY_BYTES)
    .fixed(cert.deviceIdentityKey, KEY_BYTES)
    .u64(cert.createdAt)
    .fixed(cert.signature, SIGNATURE_BYTES);
}

export function readDeviceCertificate(r: Reader): DeviceCertificate {
  expectVersion(r.u8(), CERTIFICATE_VERSION, 'device certificate');
  return {
    accountKey: r.fixed(KEY_BYTES),
    deviceSigningKey: r.fixed(KEY_BYTES),
    deviceIdentityKey: r.fixed(KEY_BYTES),
    createdAt: r.u64(),
    signature: r.fixed(SIGNATURE_BYTES),
  };
}

/** Fixed size: version(1) || accountKey(32) || deviceSigningKey(32) || deviceIdentityKey(32) || createdAt(u64) || signature(64). */
export function encodeDeviceCertificate(cert: DeviceCertificate): Uint8Array {
  return writeDeviceCertificate(new Writer(CERTIFICATE_BYTES), cert).finish();
}

export function decodeDeviceCertificate(bytes: Uint8Array): DeviceCertificate {
  const r = new Reader(bytes);
  const cert = readDeviceCertificate(r);
  r.end();
  return cert;
}

/** Length-prefixed certificate inside a larger message (room for a larger future version). */
export function writeCertificateField(w: Writer, cert: DeviceCertificate): Writer {
  return w.bytes(encodeDeviceCertificate(cert), MAX_CERTIFICATE_BYTES);
}

export function readCertificateField(r: Reader): DeviceCertificate {
  return decodeDeviceCertificate(r.bytes(MAX_CERTIFICATE_BYTES));
}

/** Throws BAD_CERTIFICATE unless the account key signed exactly these device keys. */
export async function verifyDeviceCertificate(crypto: CryptoBackend, cert: DeviceCertificate): Promise<void> {
  let ok = false;
  try {
    ok = await crypto.ed25519Verify(
      cert.accountKey,
      certificateSignedBytes(cert.deviceSigningKey, cert.deviceIdentityKey, cert.createdAt),
      cert.signature,
    );
  } catch (cause) {
    throw new ProtocolError('BAD_CERTIFICATE', 'device certificate is malformed', { cause });
  }
  if (!ok) throw new ProtocolError('BAD_CERTIFICATE', 'device certificate signature does not verify');
}

/** Same device: same account key, signing key and identity key (createdAt may differ on renewal). */
export function sameDevice(a: DeviceCertificate, b: DeviceCertificate): boolean {
  return (
    equalBytes(a.accountKey, b.accountKey) &&
    equalBytes(a.deviceSigningKey, b.deviceSigningKey) &&
    equalBytes(a.deviceIdentityKey, b.deviceIdentityKey)
  );
}

// ---- local storage of secrets (never sent anywhere) ----

export function encodeAccountKeys(keys: AccountKeys): Uint8Array {
  return new Writer(1 + 2 * KEY_BYTES)
    .u8(KEY_STORAGE_VERSION)
    .fixed(keys.signing.secretKey, KEY_BYTES)
    .fixed(keys.signing.publicKey, KEY_BYTES)
    .finish();
}

export function decodeAccountKeys(bytes: Uint8Array): AccountKeys {
  const r = new Reader(bytes);
  expectVersion(r.u8(), KEY_STORAGE_VERSION, 'account keys');
  const secretKey = r.fixed(KEY_BYTES);
  const publicKey = r.fixed(KEY_BYTES);
  r.end();
  return makeAccountKeys({ secretKey, publicKey });
}

export function encodeDeviceKeys(keys: DeviceKeys): Uint8Array {
  const w = new Writer(1 + 4 * KEY_BYTES + CERTIFICATE_BYTES + 4)
    .u8(KEY_STORAGE_VERSION)
    .fixed(keys.signing.secretKey, KEY_BYTES)
    .fixed(keys.signing.publicKey, KEY_BYTES)
    .fixed(keys.identity.secretKey, KEY_BYTES)
    .fixed(keys.identity.publicKey, KEY_BYTES);
  return writeCertificateField(w, keys.certificate).finish();
}

export function decodeDeviceKeys(bytes: Uint8Array): DeviceKeys {
  const r = new Reader(bytes);
  expectVersion(r.u8(), KEY_STORAGE_VERSION, 'device keys');
  const signing = { secretKey: r.fixed(KEY_BYTES), publicKey: r.fixed(KEY_BYTES) };
  const identity = { secretKey: r.fixed(KEY_BYTES), publicKey: r.fixed(KEY_BYTES) };
  const certificate = readCertificateField(r);
  r.end();
  if (!equalBytes(certificate.deviceSigningKey, signing.publicKey) || !equalBytes(certificate.deviceIdentityKey, identity.publicKey)) {
    throw new ProtocolError('BAD_FIELD', 'device keys do not match their certificate');
  }
  return makeDeviceKeys(signing, identity, certificate);
}

// ---- ids ----

export async function accountIdOf(crypto: CryptoBackend, accountKey: Uint8Array): Promise<Uint8Array> {
  if (accountKey.length !== KEY_BYTES) throw new ProtocolError('BAD_FIELD', 'account key must be 32 bytes');
  return (await crypto.sha256(accountKey)).slice(0, ID_BYTES);
}

export async function deviceIdOf(crypto: CryptoBackend, deviceSigningKey: Uint8Array): Promise<Uint8Array> {
  if (deviceSigningKey.length !== KEY_BYTES) throw new ProtocolError('BAD_FIELD', 'device signing key must be 32 bytes');
  return (await crypto.sha256(deviceSigningKey)).slice(0, ID_BYTES);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** Group sizes of the 26 base32 characters of a 16-byte id. */
const PIGEON_ID_GROUPS = [5, 5, 5, 5, 6];

/** RFC 4648 base32 (lower case, no padding) of the 16-byte account id, in dash-separated groups. */
export function formatPigeonId(accountId: Uint8Array): string {
  if (accountId.length !== ID_BYTES) throw new ProtocolError('BAD_FIELD', 'account id must be 16 bytes');
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of accountId) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += BASE32[(value >>> bits) & 31]!;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) text += BASE32[(value << (5 - bits)) & 31]!;
  const groups: string[] = [];
  let offset = 0;
  for (const size of PIGEON_ID_GROUPS) {
    groups.push(text.slice(offset, offset + size));
    offset += size;
  }
  return groups.join('-');
}

/** Inverse of formatPigeonId; accepts any case and ignores dashes and spaces. Throws BAD_FIELD. */
export function parsePigeonId(text: string): Uint8Array {
  const clean = text.toLowerCase().replace(/[-\s]/g, '');
  if (clean.length !== 26) throw new ProtocolError('BAD_FIELD', 'a Pigeon ID has 26 characters');
  const out = new Uint8Array(ID_BYTES);
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const ch of clean) {
    const digit = BASE32.indexOf(ch);
    if (digit < 0) throw new ProtocolError('BAD_FIELD', 'a Pigeon ID uses base32 characters only');
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (o < ID_BYTES) out[o++] = (value >>> bits) & 0xff;
    }
  }
  // 26 * 5 = 130 bits: the last 2 bits are padding and must be zero (canonical form).
  if ((value & ((1 << bits) - 1)) !== 0) throw new ProtocolError('BAD_FIELD', 'non-canonical Pigeon ID');
  return out;
}

/** Bytes a device signs with its signing key to answer a relay's challenge (domain-separated). */
export function authMessage(nonce: Uint8Array): Uint8Array {
  if (nonce.length === 0 || nonce.length > MAX_AUTH_NONCE_BYTES) {
    throw new ProtocolError('BAD_FIELD', `auth nonce must be 1..${MAX_AUTH_NONCE_BYTES} bytes`);
  }
  return concatBytes(LABEL_RELAY_AUTH, nonce);
}
