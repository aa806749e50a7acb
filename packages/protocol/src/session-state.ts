/**
 * One Double Ratchet session (Signal Double Ratchet spec, section 3.2 state variables) and
 * its compact binary encoding. States are immutable: every step returns a new object that
 * shares unchanged byte arrays with the old one (they are never written to).
 *
 * ML-KEM material is deliberately absent: after PQXDH only the KEM ciphertext is kept,
 * and only until the first reply, so encoding a record stays small and cheap.
 */
import type { KeyPair } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import {
  CERTIFICATE_BYTES,
  KEM_CIPHERTEXT_BYTES,
  KEY_BYTES,
  MAX_RATCHET_EXTENSION_BYTES,
  MAX_RECEIVER_CHAINS,
  MAX_SKIPPED_KEYS,
  RATCHET_CLASSIC,
  SESSION_AD_BYTES,
  SESSION_STATE_VERSION,
} from './constants.js';
import { ProtocolError } from './errors.js';
import { readCertificateField, writeCertificateField } from './identity.js';
import type { PreKeyHeader } from './messages.js';
import { protectKeyPair } from './redact.js';
import { expectVersion } from './codec-helpers.js';

export interface ReceivingChain {
  readonly ratchetKey: Uint8Array;
  readonly chainKey: Uint8Array;
  /** Counter of the next message expected on this chain. */
  readonly index: number;
}

export interface SkippedKey {
  readonly ratchetKey: Uint8Array;
  readonly index: number;
  readonly messageKey: Uint8Array;
  /** When the key was skipped (injected `now`), for MAX_SKIPPED_KEY_AGE_MS. */
  readonly createdAt: number;
}

export interface SessionState {
  /** RATCHET_CLASSIC in v1; the slot a post-quantum ratchet step will use. */
  readonly ratchetVersion: number;
  /** Opaque state of that future ratchet step; always empty in v1. */
  readonly ratchetExtension: Uint8Array;
  /** The initiator's PQXDH ephemeral public key: identifies the session across both sides. */
  readonly baseKey: Uint8Array;
  /** IK_A || IK_B || transcript hash (PQXDH AD plus the KEM/certificate binding). */
  readonly ad: Uint8Array;
  readonly rootKey: Uint8Array;
  readonly sendingRatchet: KeyPair;
  readonly sendingChainKey: Uint8Array;
  readonly sendingIndex: number;
  readonly previousCounter: number;
  /** Newest first, at most MAX_RECEIVER_CHAINS. */
  readonly receivingChains: readonly ReceivingChain[];
  /** Oldest first, at most MAX_SKIPPED_KEYS. */
  readonly skipped: readonly SkippedKey[];
  /** Set on the initiator until the first message from the responder authenticates. */
  readonly pending: PreKeyHeader | null;
  /**
   * Responder only: SHA-256 of the prekey message header (all but the embedded whisper) that
   * created the session. A later prekey message with the same base key must carry exactly this
   * header, so header fields cannot be altered in transit even though they are not encrypted.
   */
  readonly preKeyDigest: Uint8Array | null;
}

/**
 * version(1) || baseKey(32) || ratchetVersion(1) || ratchetExtension(u32 len) || ad(96) || rootKey(32)
 * || sendingSecret(32) || sendingPublic(32) || sendingChainKey(32) || sendingIndex(u32) || previousCounter(u32)
 * || chains(u8) [ratchetKey(32) chainKey(32) index(u32)]* || skipped(u16) [ratchetKey(32) index(u32) messageKey(32) createdAt(u64)]*
 * || hasPreKeyDigest(u8) [digest(32)] || hasPending(u8) [certificate(u32 len) baseKey... see writePending]
 * The base key sits at offset 1 so a record can match prekey messages against stored sessions without decoding them.
 */
/** Fixed part of an encoded state: everything up to and including the two presence flags. */
const STATE_FIXED_BYTES = 1 + KEY_BYTES + 1 + 4 + SESSION_AD_BYTES + 4 * KEY_BYTES + 4 + 4 + 1 + 2 + 1 + 1;
const CHAIN_BYTES = 2 * KEY_BYTES + 4;
const SKIPPED_BYTES = 2 * KEY_BYTES + 4 + 8;
const PENDING_FIXED_BYTES = 4 + CERTIFICATE_BYTES + KEY_BYTES + 4 + 1 + 4 + KEM_CIPHERTEXT_BYTES;

/** Exact encoded size, so the Writer hands its buffer over without a copy. */
function encodedStateBytes(s: SessionState): number {
  let size = STATE_FIXED_BYTES + s.ratchetExtension.length + s.receivingChains.length * CHAIN_BYTES + s.skipped.length * SKIPPED_BYTES;
  if (s.preKeyDigest !== null) size += KEY_BYTES;
  if (s.pending !== null) size += PENDING_FIXED_BYTES + (s.pending.oneTimePreKeyId === null ? 0 : 4);
  return size;
}

export function encodeSessionState(s: SessionState): Uint8Array {
  const w = new Writer(encodedStateBytes(s))
    .u8(SESSION_STATE_VERSION)
    .fixed(s.baseKey, KEY_BYTES)
    .u8(s.ratchetVersion)
    .bytes(s.ratchetExtension, MAX_RATCHET_EXTENSION_BYTES)
    .fixed(s.ad, SESSION_AD_BYTES)
    .fixed(s.rootKey, KEY_BYTES)
    .fixed(s.sendingRatchet.secretKey, KEY_BYTES)
    .fixed(s.sendingRatchet.publicKey, KEY_BYTES)
    .fixed(s.sendingChainKey, KEY_BYTES)
    .u32(s.sendingIndex)
    .u32(s.previousCounter)
    .u8(s.receivingChains.length);
  for (const c of s.receivingChains) w.fixed(c.ratchetKey, KEY_BYTES).fixed(c.chainKey, KEY_BYTES).u32(c.index);
  w.u16(s.skipped.length);
  for (const k of s.skipped) w.fixed(k.ratchetKey, KEY_BYTES).u32(k.index).fixed(k.messageKey, KEY_BYTES).u64(k.createdAt);
  if (s.preKeyDigest === null) w.u8(0);
  else w.u8(1).fixed(s.preKeyDigest, KEY_BYTES);
  if (s.pending === null) return w.u8(0).finish();
  const p = s.pending;
  w.u8(1);
  writeCertificateField(w, p.certificate).fixed(p.baseKey, KEY_BYTES).u32(p.signedPreKeyId);
  if (p.oneTimePreKeyId === null) w.u8(0);
  else w.u8(1).u32(p.oneTimePreKeyId);
  return w.u32(p.kemPreKeyId).fixed(p.kemCiphertext, KEM_CIPHERTEXT_BYTES).finish();
}

/**
 * The state's byte fields are views into `bytes` (one allocation per state instead of one per
 * key): pass bytes that nobody writes to, i.e. bytes owned by a SessionRecord (decodeSessionRecord
 * decodes from its own copy). States are never written to, so sharing is safe.
 */
export function decodeSessionState(bytes: Uint8Array): SessionState {
  const r = new Reader(bytes);
  expectVersion(r.u8(), SESSION_STATE_VERSION, 'session state');
  const baseKey = r.fixedView(KEY_BYTES);
  const ratchetVersion = r.u8();
  if (ratchetVersion !== RATCHET_CLASSIC) throw new ProtocolError('UNKNOWN_VERSION', `unknown ratchet version ${ratchetVersion}`);
  const ratchetExtension = r.bytesView(MAX_RATCHET_EXTENSION_BYTES);
  const ad = r.fixedView(SESSION_AD_BYTES);
  const rootKey = r.fixedView(KEY_BYTES);
  const sendingRatchet = protectKeyPair({ secretKey: r.fixedView(KEY_BYTES), publicKey: r.fixedView(KEY_BYTES) });
  const sendingChainKey = r.fixedView(KEY_BYTES);
  const sendingIndex = r.u32();
  const previousCounter = r.u32();
  const chainCount = r.u8();
  if (chainCount > MAX_RECEIVER_CHAINS) throw new ProtocolError('FIELD_TOO_LARGE', 'too many receiving chains');
  const receivingChains: ReceivingChain[] = [];
  for (let i = 0; i < chainCount; i++) {
    receivingChains.push({ ratchetKey: r.fixedView(KEY_BYTES), chainKey: r.fixedView(KEY_BYTES), index: r.u32() });
  }
  const skippedCount = r.u16();
  if (skippedCount > MAX_SKIPPED_KEYS) throw new ProtocolError('FIELD_TOO_LARGE', 'too many skipped keys');
  const skipped: SkippedKey[] = [];
  for (let i = 0; i < skippedCount; i++) {
    skipped.push({ ratchetKey: r.fixedView(KEY_BYTES), index: r.u32(), messageKey: r.fixedView(KEY_BYTES), createdAt: r.u64() });
  }
  const preKeyDigest = r.bool() ? r.fixedView(KEY_BYTES) : null;
  let pending: PreKeyHeader | null = null;
  if (r.bool()) {
    const certificate = readCertificateField(r);
    const pendingBaseKey = r.fixedView(KEY_BYTES);
    const signedPreKeyId = r.u32();
    const oneTimePreKeyId = r.bool() ? r.u32() : null;
    const kemPreKeyId = r.u32();
    const kemCiphertext = r.fixedView(KEM_CIPHERTEXT_BYTES);
    pending = { certificate, baseKey: pendingBaseKey, signedPreKeyId, oneTimePreKeyId, kemPreKeyId, kemCiphertext };
  }
  r.end();
  return {
    ratchetVersion,
    ratchetExtension,
    baseKey,
    ad,
    rootKey,
    sendingRatchet,
    sendingChainKey,
    sendingIndex,
    previousCounter,
    receivingChains,
    skipped,
    pending,
    preKeyDigest,
  };
}

/** The base key of an encoded state, read in place (see the layout above). */
export function baseKeyOfEncoded(encoded: Uint8Array): Uint8Array | null {
  if (encoded.length < 1 + KEY_BYTES || encoded[0] !== SESSION_STATE_VERSION) return null;
  return encoded.subarray(1, 1 + KEY_BYTES);
}
