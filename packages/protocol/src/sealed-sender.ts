/**
 * Sealed sender (after Signal's sealed sender v1): the relay learns only the recipient
 * device; the sender's identity travels inside two encryption layers.
 *
 *   e = fresh X25519 key pair
 *   ephemeral layer:  (chainKey, ephemeralKey) = HKDF(DH(e, IK_R), salt = 0^32,
 *                       info = LABEL_SEALED_EPHEMERAL || IK_R || e.pub, 64)
 *                     sealedIdentity = AES-GCM(ephemeralKey, nonce 0, IK_S, aad = version || e.pub)
 *   static layer:     staticKey = HKDF(DH(IK_S, IK_R), salt = chainKey || sealedIdentity,
 *                       info = LABEL_SEALED_STATIC || IK_S || IK_R, 32)
 *                     sealedContent = AES-GCM(staticKey, nonce 0, content, aad = version || e.pub || sealedIdentity)
 *   envelope = version(1) || e.pub(32) || sealedIdentity(48) || sealedContent
 *   content  = sender certificate (u32 len) || kind(u8: 1 prekey, 2 whisper) || message (u32 len)
 *
 * The ephemeral layer hides IK_S from everyone but the recipient; the static layer proves
 * that the holder of IK_S sent it to IK_R; the certificate inside must name IK_S and verify
 * against its account key. Both keys are single-use (fresh e), so a fixed nonce is safe.
 * Deviation from Signal: AES-256-GCM replaces AES-CTR + HMAC, and the sender certificate
 * is the account-signed device certificate (no server-issued certificate, no expiry).
 */
import { CryptoError, concatBytes, equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import {
  AES_NONCE_BYTES,
  AES_TAG_BYTES,
  KEY_BYTES,
  LABEL_SEALED_EPHEMERAL,
  LABEL_SEALED_STATIC,
  MAX_PREKEY_MESSAGE_BYTES,
  SEALED_SENDER_VERSION,
} from './constants.js';
import { ProtocolError } from './errors.js';
import { readCertificateField, verifyDeviceCertificate, writeCertificateField } from './identity.js';
import type { DeviceCertificate, DeviceKeys } from './identity.js';
import type { CiphertextMessage } from './messages.js';
import { asProtocolError } from './codec-helpers.js';

const ZERO_NONCE = new Uint8Array(AES_NONCE_BYTES);
const ZERO_SALT = new Uint8Array(32);
const SEALED_IDENTITY_BYTES = KEY_BYTES + AES_TAG_BYTES;
const PREFIX_BYTES = 1 + KEY_BYTES + SEALED_IDENTITY_BYTES;
const KIND_CODE = { prekey: 1, whisper: 2 } as const;
export const MAX_SEALED_ENVELOPE_BYTES = PREFIX_BYTES + MAX_PREKEY_MESSAGE_BYTES + 2048;

async function ephemeralKeys(crypto: CryptoBackend, shared: Uint8Array, recipientKey: Uint8Array, ephemeralPublic: Uint8Array) {
  const out = await crypto.hkdfSha256(shared, ZERO_SALT, concatBytes(LABEL_SEALED_EPHEMERAL, recipientKey, ephemeralPublic), 2 * KEY_BYTES);
  return { chainKey: out.subarray(0, KEY_BYTES), key: out.subarray(KEY_BYTES) };
}

function staticKey(crypto: CryptoBackend, shared: Uint8Array, chainKey: Uint8Array, sealedIdentity: Uint8Array, senderKey: Uint8Array, recipientKey: Uint8Array) {
  return crypto.hkdfSha256(shared, concatBytes(chainKey, sealedIdentity), concatBytes(LABEL_SEALED_STATIC, senderKey, recipientKey), KEY_BYTES);
}

export async function sealMessage(
  crypto: CryptoBackend,
  sender: DeviceKeys,
  recipientCertificate: DeviceCertificate,
  message: CiphertextMessage,
): Promise<Uint8Array> {
  const kind = KIND_CODE[message.kind];
  if (kind === undefined) throw new ProtocolError('UNKNOWN_TYPE', 'unknown message kind');
  const recipientKey = recipientCertificate.deviceIdentityKey;
  const senderKey = sender.identity.publicKey;
  try {
    const e = await crypto.x25519GenerateKeyPair();
    const eph = await ephemeralKeys(crypto, await crypto.x25519(e.secretKey, recipientKey), recipientKey, e.publicKey);
    const head = Uint8Array.of(SEALED_SENDER_VERSION);
    const sealedIdentity = await crypto.aes256GcmEncrypt(eph.key, ZERO_NONCE, senderKey, concatBytes(head, e.publicKey));
    const key = await staticKey(crypto, await crypto.x25519(sender.identity.secretKey, recipientKey), eph.chainKey, sealedIdentity, senderKey, recipientKey);
    const w = new Writer(256 + message.bytes.length);
    writeCertificateField(w, sender.certificate).u8(kind).bytes(message.bytes, MAX_PREKEY_MESSAGE_BYTES);
    const prefix = concatBytes(head, e.publicKey, sealedIdentity);
    const sealedContent = await crypto.aes256GcmEncrypt(key, ZERO_NONCE, w.finish(), prefix);
    return concatBytes(prefix, sealedContent);
  } catch (error) {
    if (error instanceof CryptoError) throw new ProtocolError('BAD_FIELD', 'recipient identity key is invalid', { cause: error });
    throw asProtocolError(error, 'BAD_FIELD', 'sealing failed');
  }
}

async function decryptLayer(crypto: CryptoBackend, key: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  try {
    return await crypto.aes256GcmDecrypt(key, ZERO_NONCE, ciphertext, aad);
  } catch (cause) {
    throw new ProtocolError('DECRYPT_FAILED', 'sealed envelope did not authenticate', { cause });
  }
}

/** Opens an envelope addressed to `recipient`; verifies the sender certificate (BAD_CERTIFICATE). */
export async function openSealedMessage(
  crypto: CryptoBackend,
  recipient: DeviceKeys,
  envelope: Uint8Array,
  now: number,
): Promise<{ sender: DeviceCertificate; message: CiphertextMessage }> {
  void now; // Reserved for certificate expiry; device certificates do not expire in v1.
  if (envelope.length < 1) throw new ProtocolError('TRUNCATED', 'empty envelope');
  if (envelope[0] !== SEALED_SENDER_VERSION) throw new ProtocolError('UNKNOWN_VERSION', `unknown envelope version ${envelope[0]}`);
  if (envelope.length < PREFIX_BYTES + AES_TAG_BYTES) throw new ProtocolError('TRUNCATED', 'envelope too short');
  if (envelope.length > MAX_SEALED_ENVELOPE_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'envelope too long');
  const ephemeralPublic = envelope.subarray(1, 1 + KEY_BYTES);
  const sealedIdentity = envelope.subarray(1 + KEY_BYTES, PREFIX_BYTES);
  const recipientKey = recipient.identity.publicKey;
  let senderKey: Uint8Array;
  let content: Uint8Array;
  try {
    const eph = await ephemeralKeys(crypto, await crypto.x25519(recipient.identity.secretKey, ephemeralPublic), recipientKey, ephemeralPublic);
    senderKey = await decryptLayer(crypto, eph.key, sealedIdentity, envelope.subarray(0, 1 + KEY_BYTES));
    const key = await staticKey(crypto, await crypto.x25519(recipient.identity.secretKey, senderKey), eph.chainKey, sealedIdentity, senderKey, recipientKey);
    content = await decryptLayer(crypto, key, envelope.subarray(PREFIX_BYTES), envelope.subarray(0, PREFIX_BYTES));
  } catch (error) {
    throw asProtocolError(error, 'DECRYPT_FAILED', 'sealed envelope did not open');
  }
  const r = new Reader(content);
  const sender = readCertificateField(r);
  const kindCode = r.u8();
  const bytes = r.bytes(MAX_PREKEY_MESSAGE_BYTES);
  r.end();
  const kind = kindCode === KIND_CODE.prekey ? 'prekey' : kindCode === KIND_CODE.whisper ? 'whisper' : null;
  if (kind === null) throw new ProtocolError('UNKNOWN_TYPE', `unknown message kind ${kindCode}`);
  // The static layer authenticated IK_S; the certificate must be for that very key and signed by its account.
  if (!equalBytes(sender.deviceIdentityKey, senderKey)) throw new ProtocolError('BAD_CERTIFICATE', 'certificate is not for the sealing key');
  await verifyDeviceCertificate(crypto, sender);
  return { sender, message: { kind, bytes } };
}
