/**
 * @pigeon/protocol: the sans-IO end-to-end encryption core (docs/protocol.md is the spec).
 * Every function takes the CryptoBackend first; time and randomness are injected.
 */
export * from './errors.js';
export * from './codec/index.js';
export {
  // Versions and limits (docs/protocol.md "Limits"). KDF labels stay internal.
  CERTIFICATE_VERSION,
  BUNDLE_VERSION,
  PREKEY_MESSAGE_VERSION,
  WHISPER_MESSAGE_VERSION,
  SESSION_RECORD_VERSION,
  SEALED_SENDER_VERSION,
  CERTIFICATE_BYTES,
  ID_BYTES,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  MAX_SKIPPED_KEY_AGE_MS,
  MAX_RECEIVER_CHAINS,
  MAX_PREVIOUS_SESSIONS,
  MAX_PLAINTEXT_BYTES,
  PADDING_BLOCK,
  MAX_AUTH_NONCE_BYTES,
  SAFETY_NUMBER_ITERATIONS,
} from './constants.js';
export {
  type AccountKeys,
  type DeviceCertificate,
  type DeviceKeys,
  createAccountKeys,
  createDeviceKeys,
  encodeDeviceCertificate,
  decodeDeviceCertificate,
  verifyDeviceCertificate,
  encodeAccountKeys,
  decodeAccountKeys,
  encodeDeviceKeys,
  decodeDeviceKeys,
  accountIdOf,
  deviceIdOf,
  formatPigeonId,
  parsePigeonId,
  authMessage,
  sameDevice,
  certifyDevice,
  deviceKeysFromParts,
} from './identity.js';
export {
  type SignedPreKeyPair,
  type OneTimePreKeyPair,
  type KemPreKeyPair,
  type PreKeyKind,
  generateSignedPreKey,
  generateOneTimePreKeys,
  generateKemPreKey,
  encodeSignedPreKey,
  decodeSignedPreKey,
  encodeOneTimePreKey,
  decodeOneTimePreKey,
  encodeKemPreKey,
  decodeKemPreKey,
  verifyPreKeySignature,
  MAX_PREKEY_ID,
} from './prekeys.js';
export { type PreKeyBundle, encodePreKeyBundle, decodePreKeyBundle, verifyPreKeyBundle } from './bundle.js';
export type { CiphertextMessage } from './messages.js';
export {
  type SessionRecord,
  encodeSessionRecord,
  decodeSessionRecord,
  hasActiveSession,
  sessionRecordRemote,
} from './session-record.js';
export { type PreKeyStore, type DecryptResult, initiateSession, sessionEncrypt, sessionDecrypt } from './session.js';
export { sealMessage, openSealedMessage, MAX_SEALED_ENVELOPE_BYTES } from './sealed-sender.js';
export { padPlaintext, unpadPlaintext } from './padding.js';
export { computeSafetyNumber, formatSafetyNumber, verifySafetyNumberQr, SAFETY_NUMBER_DIGITS } from './safety-number.js';
export * from './group/index.js';
export * from './devices/index.js';
