/**
 * The subset of the @pigeon/protocol public API the benchmarks use, as documented in the
 * protocol contract. Declared here (types only) so the bench package compiles and reports
 * cleanly even while the protocol package is still incomplete; the module is loaded with a
 * dynamic import and checked by missingProtocolFunctions().
 */
import type { CryptoBackend, KeyPair } from '@pigeon/crypto';

export interface AccountKeys {
  readonly signing: KeyPair;
}
export interface DeviceCertificate {
  readonly accountKey: Uint8Array;
  readonly deviceSigningKey: Uint8Array;
  readonly deviceIdentityKey: Uint8Array;
  readonly createdAt: number;
  readonly signature: Uint8Array;
}
export interface DeviceKeys {
  readonly signing: KeyPair;
  readonly identity: KeyPair;
  readonly certificate: DeviceCertificate;
}
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
export interface PreKeyBundle {
  readonly certificate: DeviceCertificate;
  readonly signedPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
  readonly oneTimePreKey: { id: number; publicKey: Uint8Array } | null;
  readonly kemPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
}
export interface PreKeyStore {
  signedPreKey(id: number): Promise<SignedPreKeyPair | undefined>;
  oneTimePreKey(id: number): Promise<OneTimePreKeyPair | undefined>;
  kemPreKey(id: number): Promise<KemPreKeyPair | undefined>;
}
/** Opaque to callers. */
export type SessionRecord = { readonly __opaque?: never } & object;
export interface CiphertextMessage {
  readonly kind: 'prekey' | 'whisper';
  readonly bytes: Uint8Array;
}

export interface PigeonProtocol {
  createAccountKeys(crypto: CryptoBackend): Promise<AccountKeys>;
  createDeviceKeys(crypto: CryptoBackend, account: AccountKeys, now: number): Promise<DeviceKeys>;
  encodeDeviceCertificate(cert: DeviceCertificate): Uint8Array;
  deviceIdOf(crypto: CryptoBackend, deviceSigningKey: Uint8Array): Promise<Uint8Array>;
  accountIdOf(crypto: CryptoBackend, accountKey: Uint8Array): Promise<Uint8Array>;
  authMessage(nonce: Uint8Array): Uint8Array;
  generateSignedPreKey(crypto: CryptoBackend, device: DeviceKeys, id: number, now: number): Promise<SignedPreKeyPair>;
  generateOneTimePreKeys(crypto: CryptoBackend, firstId: number, count: number): Promise<OneTimePreKeyPair[]>;
  generateKemPreKey(crypto: CryptoBackend, device: DeviceKeys, id: number, lastResort: boolean, now: number): Promise<KemPreKeyPair>;
  /** Storage encodings of the private prekeys (they contain secrets). */
  encodeSignedPreKey(k: SignedPreKeyPair): Uint8Array;
  decodeSignedPreKey(bytes: Uint8Array): SignedPreKeyPair;
  encodeOneTimePreKey(k: OneTimePreKeyPair): Uint8Array;
  decodeOneTimePreKey(bytes: Uint8Array): OneTimePreKeyPair;
  encodeKemPreKey(k: KemPreKeyPair): Uint8Array;
  decodeKemPreKey(bytes: Uint8Array): KemPreKeyPair;
  encodePreKeyBundle(bundle: PreKeyBundle): Uint8Array;
  decodePreKeyBundle(bytes: Uint8Array): PreKeyBundle;
  encodeSessionRecord(record: SessionRecord): Uint8Array;
  decodeSessionRecord(bytes: Uint8Array): SessionRecord;
  initiateSession(crypto: CryptoBackend, ours: DeviceKeys, record: SessionRecord | undefined, bundle: PreKeyBundle, now: number): Promise<SessionRecord>;
  sessionEncrypt(crypto: CryptoBackend, record: SessionRecord, plaintext: Uint8Array, now: number): Promise<{ record: SessionRecord; message: CiphertextMessage }>;
  sessionDecrypt(
    crypto: CryptoBackend,
    ours: DeviceKeys,
    record: SessionRecord | undefined,
    prekeys: PreKeyStore,
    sender: DeviceCertificate,
    message: CiphertextMessage,
    now: number,
  ): Promise<{ record: SessionRecord; plaintext: Uint8Array; consumed: { oneTimePreKeyId: number | null; kemOneTimePreKeyId: number | null } }>;
}

const REQUIRED: readonly (keyof PigeonProtocol)[] = [
  'createAccountKeys',
  'createDeviceKeys',
  'encodeDeviceCertificate',
  'deviceIdOf',
  'accountIdOf',
  'authMessage',
  'generateSignedPreKey',
  'generateOneTimePreKeys',
  'generateKemPreKey',
  'encodeSignedPreKey',
  'decodeSignedPreKey',
  'encodeOneTimePreKey',
  'decodeOneTimePreKey',
  'encodeKemPreKey',
  'decodeKemPreKey',
  'encodePreKeyBundle',
  'decodePreKeyBundle',
  'encodeSessionRecord',
  'decodeSessionRecord',
  'initiateSession',
  'sessionEncrypt',
  'sessionDecrypt',
];

export function missingProtocolFunctions(module: unknown, required: readonly string[] = REQUIRED): string[] {
  const mod = module as Record<string, unknown>;
  return required.filter((name) => typeof mod[name] !== 'function');
}
