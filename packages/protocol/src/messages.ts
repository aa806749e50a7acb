/**
 * Wire formats of the two session message kinds (docs/protocol.md "Messages").
 *
 * whisper  = version(1) || ratchetKey(32) || previousCounter(u32) || counter(u32) || AES-256-GCM ciphertext+tag
 *            (the first 41 bytes are the header, authenticated as AAD after the session AD)
 * prekey   = version(1) || initiator certificate (u32 len + bytes) || baseKey(32) || signedPreKeyId(u32)
 *            || hasOneTime(u8) [|| oneTimePreKeyId(u32)] || kemPreKeyId(u32) || kemCiphertext(1568)
 *            || whisper (u32 len + bytes)
 */
import { Reader, Writer } from './codec/index.js';
import {
  AES_TAG_BYTES,
  KEM_CIPHERTEXT_BYTES,
  KEY_BYTES,
  MAX_PREKEY_MESSAGE_BYTES,
  MAX_WHISPER_BYTES,
  PREKEY_MESSAGE_VERSION,
  WHISPER_MESSAGE_VERSION,
} from './constants.js';
import { ProtocolError } from './errors.js';
import { readCertificateField, writeCertificateField } from './identity.js';
import type { DeviceCertificate } from './identity.js';
import { expectVersion } from './codec-helpers.js';

export interface CiphertextMessage {
  readonly kind: 'prekey' | 'whisper';
  readonly bytes: Uint8Array;
}

export const WHISPER_HEADER_BYTES = 1 + KEY_BYTES + 4 + 4;

export interface WhisperMessage {
  /** The exact header bytes as received (authenticated as AAD). */
  readonly header: Uint8Array;
  readonly ratchetKey: Uint8Array;
  readonly previousCounter: number;
  readonly counter: number;
  readonly ciphertext: Uint8Array;
}

export function encodeWhisperHeader(ratchetKey: Uint8Array, previousCounter: number, counter: number): Uint8Array {
  return new Writer(WHISPER_HEADER_BYTES)
    .u8(WHISPER_MESSAGE_VERSION)
    .fixed(ratchetKey, KEY_BYTES)
    .u32(previousCounter)
    .u32(counter)
    .finish();
}

/** Parses without copying: the views stay valid as long as the caller keeps `bytes` unchanged. */
export function decodeWhisperMessage(bytes: Uint8Array): WhisperMessage {
  if (bytes.length < 1) throw new ProtocolError('TRUNCATED', 'empty whisper message');
  expectVersion(bytes[0]!, WHISPER_MESSAGE_VERSION, 'whisper message');
  if (bytes.length < WHISPER_HEADER_BYTES + AES_TAG_BYTES) throw new ProtocolError('TRUNCATED', 'whisper message too short');
  if (bytes.length > MAX_WHISPER_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'whisper message too long');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    header: bytes.subarray(0, WHISPER_HEADER_BYTES),
    ratchetKey: bytes.subarray(1, 1 + KEY_BYTES),
    previousCounter: view.getUint32(1 + KEY_BYTES),
    counter: view.getUint32(1 + KEY_BYTES + 4),
    ciphertext: bytes.subarray(WHISPER_HEADER_BYTES),
  };
}

export interface PreKeyMessage {
  readonly certificate: DeviceCertificate;
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number | null;
  readonly kemPreKeyId: number;
  readonly kemCiphertext: Uint8Array;
  readonly whisper: Uint8Array;
}

/** Header fields of a prekey message, stored in the initiator's session until the first reply. */
export interface PreKeyHeader {
  readonly certificate: DeviceCertificate;
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number | null;
  readonly kemPreKeyId: number;
  readonly kemCiphertext: Uint8Array;
}

export function encodePreKeyMessage(h: PreKeyHeader, whisper: Uint8Array): Uint8Array {
  const w = new Writer(256 + KEM_CIPHERTEXT_BYTES + whisper.length).u8(PREKEY_MESSAGE_VERSION);
  writeCertificateField(w, h.certificate).fixed(h.baseKey, KEY_BYTES).u32(h.signedPreKeyId);
  if (h.oneTimePreKeyId === null) w.u8(0);
  else w.u8(1).u32(h.oneTimePreKeyId);
  return w.u32(h.kemPreKeyId).fixed(h.kemCiphertext, KEM_CIPHERTEXT_BYTES).bytes(whisper, MAX_WHISPER_BYTES).finish();
}

export function decodePreKeyMessage(bytes: Uint8Array): PreKeyMessage {
  if (bytes.length > MAX_PREKEY_MESSAGE_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'prekey message too long');
  const r = new Reader(bytes);
  expectVersion(r.u8(), PREKEY_MESSAGE_VERSION, 'prekey message');
  const certificate = readCertificateField(r);
  const baseKey = r.fixed(KEY_BYTES);
  const signedPreKeyId = r.u32();
  const oneTimePreKeyId = r.bool() ? r.u32() : null;
  const kemPreKeyId = r.u32();
  const kemCiphertext = r.fixed(KEM_CIPHERTEXT_BYTES);
  const whisper = r.bytes(MAX_WHISPER_BYTES);
  r.end();
  return { certificate, baseKey, signedPreKeyId, oneTimePreKeyId, kemPreKeyId, kemCiphertext, whisper };
}
