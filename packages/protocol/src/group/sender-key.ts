/**
 * Sender Keys (docs/protocol.md §12.5), after Signal's sender keys: one symmetric chain per
 * (group, sender device) with an Ed25519 signing key. A message is encrypted ONCE for the
 * whole group; the client fans the same bytes out to each member device in sealed envelopes.
 *
 *   seed_i  = HMAC-SHA-256(ck_i, 0x01)          ck_{i+1} = HMAC-SHA-256(ck_i, 0x02)
 *   key || nonce = HKDF-SHA-256(seed_i, salt = empty, info = label || groupId || distributionId, 44)
 *   message = version || distributionId || iteration(u32) || AES-256-GCM(padded, aad = groupId || header) || Ed25519 signature
 *
 * Decryption is pure and commits a new state only after the signature AND the GCM tag verify.
 */
import { concatBytes, equalBytes, toHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { Reader, Writer } from '../codec/index.js';
import { expectVersion } from '../codec-helpers.js';
import { AES_TAG_BYTES, KEY_BYTES, SIGNATURE_BYTES } from '../constants.js';
import { ProtocolError } from '../errors.js';
import { checkPlaintextSize, padPlaintext, unpadPlaintext } from '../padding.js';
import { expandMessageKeyWith, messageKeyOf, nextChainKey, wipeAeadKeys } from './sender-key-kdf.js';
import { INSPECT } from '../redact.js';
import {
  DISTRIBUTION_ID_BYTES,
  GROUP_ID_BYTES,
  HASH_BYTES,
  LABEL_SENDER_KEY_SIGNATURE,
  MAX_GROUP_MESSAGE_BYTES,
  MAX_GROUP_SKIP,
  MAX_GROUP_SKIPPED_KEYS,
  MAX_SENDER_KEY_ITERATION,
  SENDER_KEY_DISTRIBUTION_VERSION,
  SENDER_KEY_HEADER_BYTES,
  SENDER_KEY_MESSAGE_VERSION,
  SENDER_KEY_STATE_VERSION,
} from './constants.js';

export interface SkippedSeed {
  readonly iteration: number;
  readonly seed: Uint8Array;
}

export interface SenderKeyState {
  readonly groupId: Uint8Array;
  /** Random 16 bytes naming this key; a new key always has a new one. */
  readonly distributionId: Uint8Array;
  /** Group epoch the key was created in, and the roster hash at that epoch (§12.6). */
  readonly epoch: number;
  readonly rosterHash: Uint8Array;
  /** Iteration of the next message key; `chainKey` is ck_iteration. */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingPublicKey: Uint8Array;
  /** Present only in the sender's own key. */
  readonly signingSecretKey: Uint8Array | null;
  /** Receiving keys only: seeds of skipped iterations, oldest first, ≤ MAX_GROUP_SKIPPED_KEYS. */
  readonly skipped: readonly SkippedSeed[];
}

/** Sent by the client to every member device over pairwise sessions (never to the relay in clear). */
export interface SenderKeyDistribution {
  readonly groupId: Uint8Array;
  readonly distributionId: Uint8Array;
  readonly epoch: number;
  readonly rosterHash: Uint8Array;
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingPublicKey: Uint8Array;
}

/** Keeps chain keys, seeds and the signing secret out of JSON, inspect and String(). */
class SenderKeyValue implements SenderKeyState {
  constructor(
    readonly groupId: Uint8Array,
    readonly distributionId: Uint8Array,
    readonly epoch: number,
    readonly rosterHash: Uint8Array,
    readonly iteration: number,
    readonly chainKey: Uint8Array,
    readonly signingPublicKey: Uint8Array,
    readonly signingSecretKey: Uint8Array | null,
    readonly skipped: readonly SkippedSeed[],
  ) {}
  toJSON(): unknown {
    return {
      type: 'SenderKeyState',
      groupId: toHex(this.groupId),
      distributionId: toHex(this.distributionId),
      epoch: this.epoch,
      iteration: this.iteration,
      own: this.signingSecretKey !== null,
      skipped: this.skipped.length,
      secrets: '[redacted]',
    };
  }
  toString(): string {
    return JSON.stringify(this.toJSON());
  }
  [INSPECT](): unknown {
    return this.toJSON();
  }
}

function make(s: SenderKeyState): SenderKeyState {
  return new SenderKeyValue(s.groupId, s.distributionId, s.epoch, s.rosterHash, s.iteration, s.chainKey, s.signingPublicKey, s.signingSecretKey, s.skipped);
}

/** A fresh sending key for our device, bound to the group's current epoch and roster hash. */
export async function createSenderKey(
  crypto: CryptoBackend,
  context: { readonly groupId: Uint8Array; readonly epoch: number; readonly rosterHash: Uint8Array },
): Promise<SenderKeyState> {
  if (context.groupId.length !== GROUP_ID_BYTES || context.rosterHash.length !== HASH_BYTES) throw new ProtocolError('BAD_FIELD', 'bad group context');
  const signing = await crypto.ed25519GenerateKeyPair();
  return make({
    groupId: context.groupId.slice(),
    distributionId: crypto.randomBytes(DISTRIBUTION_ID_BYTES),
    epoch: context.epoch,
    rosterHash: context.rosterHash.slice(),
    iteration: 0,
    chainKey: crypto.randomBytes(KEY_BYTES),
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.secretKey,
    skipped: [],
  });
}

/** The distribution message for our key at its CURRENT iteration: a newcomer cannot read earlier messages. */
export function senderKeyDistributionOf(own: SenderKeyState): SenderKeyDistribution {
  return {
    groupId: own.groupId,
    distributionId: own.distributionId,
    epoch: own.epoch,
    rosterHash: own.rosterHash,
    iteration: own.iteration,
    chainKey: own.chainKey,
    signingPublicKey: own.signingPublicKey,
  };
}

/** A receiving key from a (verified, group-checked) distribution message. */
export function senderKeyFromDistribution(d: SenderKeyDistribution): SenderKeyState {
  return make({ ...d, signingSecretKey: null, skipped: [] });
}

/** version(1) || groupId(32) || distributionId(16) || epoch(u64) || rosterHash(32) || iteration(u32) || chainKey(32) || signingPublicKey(32). */
export function encodeSenderKeyDistribution(d: SenderKeyDistribution): Uint8Array {
  return new Writer(1 + GROUP_ID_BYTES + DISTRIBUTION_ID_BYTES + 8 + HASH_BYTES + 4 + 2 * KEY_BYTES)
    .u8(SENDER_KEY_DISTRIBUTION_VERSION)
    .fixed(d.groupId, GROUP_ID_BYTES)
    .fixed(d.distributionId, DISTRIBUTION_ID_BYTES)
    .u64(d.epoch)
    .fixed(d.rosterHash, HASH_BYTES)
    .u32(d.iteration)
    .fixed(d.chainKey, KEY_BYTES)
    .fixed(d.signingPublicKey, KEY_BYTES)
    .finish();
}

export function decodeSenderKeyDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new Reader(bytes);
  expectVersion(r.u8(), SENDER_KEY_DISTRIBUTION_VERSION, 'sender key distribution');
  const d: SenderKeyDistribution = {
    groupId: r.fixed(GROUP_ID_BYTES),
    distributionId: r.fixed(DISTRIBUTION_ID_BYTES),
    epoch: r.u64(),
    rosterHash: r.fixed(HASH_BYTES),
    iteration: r.u32(),
    chainKey: r.fixed(KEY_BYTES),
    signingPublicKey: r.fixed(KEY_BYTES),
  };
  r.end();
  return d;
}

// ---- messages ----

export interface SenderKeyMessage {
  readonly distributionId: Uint8Array;
  readonly iteration: number;
  /** version || distributionId || iteration (authenticated as GCM AAD after the group id). */
  readonly header: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** Everything before the signature. */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

/** version(1) || distributionId(16) || iteration(u32) || AES-256-GCM ciphertext+tag || signature(64). */
export function decodeSenderKeyMessage(bytes: Uint8Array): SenderKeyMessage {
  if (bytes.length < 1) throw new ProtocolError('TRUNCATED', 'empty group message');
  if (bytes[0] !== SENDER_KEY_MESSAGE_VERSION) throw new ProtocolError('UNKNOWN_VERSION', `unknown group message version ${bytes[0]}`);
  if (bytes.length > MAX_GROUP_MESSAGE_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'group message too large');
  if (bytes.length < SENDER_KEY_HEADER_BYTES + AES_TAG_BYTES + SIGNATURE_BYTES) throw new ProtocolError('TRUNCATED', 'group message too short');
  const sigAt = bytes.length - SIGNATURE_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    distributionId: bytes.subarray(1, 1 + DISTRIBUTION_ID_BYTES),
    iteration: view.getUint32(1 + DISTRIBUTION_ID_BYTES),
    header: bytes.subarray(0, SENDER_KEY_HEADER_BYTES),
    ciphertext: bytes.subarray(SENDER_KEY_HEADER_BYTES, sigAt),
    signed: bytes.subarray(0, sigAt),
    signature: bytes.subarray(sigAt),
  };
}

function signatureInput(groupId: Uint8Array, signed: Uint8Array): Uint8Array {
  return concatBytes(LABEL_SENDER_KEY_SIGNATURE, groupId, signed);
}

/** Encrypts once for the whole group with our own key; throws NO_SESSION for a receiving key. */
export async function senderKeyEncrypt(
  crypto: CryptoBackend,
  own: SenderKeyState,
  plaintext: Uint8Array,
): Promise<{ state: SenderKeyState; message: Uint8Array }> {
  if (own.signingSecretKey === null) throw new ProtocolError('NO_SESSION', 'a received sender key cannot send');
  if (own.iteration >= MAX_SENDER_KEY_ITERATION) throw new ProtocolError('BAD_FIELD', 'sender key chain exhausted');
  checkPlaintextSize(plaintext);
  const seed = await messageKeyOf(crypto, own.chainKey);
  const chainKey = await nextChainKey(crypto, own.chainKey);
  const header = new Writer(SENDER_KEY_HEADER_BYTES).u8(SENDER_KEY_MESSAGE_VERSION).fixed(own.distributionId, DISTRIBUTION_ID_BYTES).u32(own.iteration).finish();
  const keys = await expandMessageKeyWith(crypto, seed, own.groupId, own.distributionId);
  const ciphertext = await crypto.aes256GcmEncrypt(keys.key, keys.nonce, padPlaintext(plaintext), concatBytes(own.groupId, header));
  wipeAeadKeys(keys);
  seed.fill(0);
  const signed = concatBytes(header, ciphertext);
  const signature = await crypto.ed25519Sign(own.signingSecretKey, signatureInput(own.groupId, signed));
  return { state: make({ ...own, iteration: own.iteration + 1, chainKey }), message: concatBytes(signed, signature) };
}

function appendSkipped(live: readonly SkippedSeed[], added: readonly SkippedSeed[]): readonly SkippedSeed[] {
  if (added.length === 0) return live;
  const all = live.concat(added);
  return all.length > MAX_GROUP_SKIPPED_KEYS ? all.slice(all.length - MAX_GROUP_SKIPPED_KEYS) : all;
}

/**
 * Decrypts with a received key. Throws UNKNOWN_SENDER_KEY (another distribution id),
 * BAD_SIGNATURE, DUPLICATE_MESSAGE (iteration used, evicted or never held), TOO_MANY_SKIPPED
 * (a jump above MAX_GROUP_SKIP), DECRYPT_FAILED, BAD_PADDING. The returned state is new; the
 * input state is never modified, so on any error the caller's stored key is unchanged.
 */
export async function senderKeyDecrypt(
  crypto: CryptoBackend,
  state: SenderKeyState,
  bytes: Uint8Array,
): Promise<{ state: SenderKeyState; plaintext: Uint8Array }> {
  const msg = decodeSenderKeyMessage(bytes);
  if (!equalBytes(msg.distributionId, state.distributionId)) throw new ProtocolError('UNKNOWN_SENDER_KEY', 'message is for another sender key');
  // Signature first: a forged message costs one verification, never a chain walk.
  let ok = false;
  try {
    ok = await crypto.ed25519Verify(state.signingPublicKey, signatureInput(state.groupId, msg.signed), msg.signature);
  } catch (cause) {
    throw new ProtocolError('BAD_SIGNATURE', 'group message signature is malformed', { cause });
  }
  if (!ok) throw new ProtocolError('BAD_SIGNATURE', 'group message signature does not verify');

  let seed: Uint8Array;
  let next: SenderKeyState;
  if (msg.iteration < state.iteration) {
    const at = state.skipped.findIndex((s) => s.iteration === msg.iteration);
    if (at < 0) throw new ProtocolError('DUPLICATE_MESSAGE', 'message key already used or dropped');
    seed = state.skipped[at]!.seed;
    next = { ...state, skipped: state.skipped.slice(0, at).concat(state.skipped.slice(at + 1)) };
  } else {
    if (msg.iteration - state.iteration > MAX_GROUP_SKIP) throw new ProtocolError('TOO_MANY_SKIPPED', 'forward jump above MAX_GROUP_SKIP');
    const added: SkippedSeed[] = [];
    // Only the newest MAX_GROUP_SKIPPED_KEYS seeds would survive eviction: older ones are never computed.
    const keepFrom = Math.max(state.iteration, msg.iteration - MAX_GROUP_SKIPPED_KEYS);
    let ck = state.chainKey;
    for (let i = state.iteration; i < msg.iteration; i++) {
      if (i >= keepFrom) added.push({ iteration: i, seed: await messageKeyOf(crypto, ck) });
      ck = await nextChainKey(crypto, ck);
    }
    seed = await messageKeyOf(crypto, ck);
    next = { ...state, iteration: msg.iteration + 1, chainKey: await nextChainKey(crypto, ck), skipped: appendSkipped(state.skipped, added) };
  }
  const keys = await expandMessageKeyWith(crypto, seed, state.groupId, state.distributionId);
  let padded: Uint8Array;
  try {
    padded = await crypto.aes256GcmDecrypt(keys.key, keys.nonce, msg.ciphertext, concatBytes(state.groupId, msg.header));
  } catch (cause) {
    throw new ProtocolError('DECRYPT_FAILED', 'group message did not authenticate', { cause });
  } finally {
    wipeAeadKeys(keys);
  }
  return { state: make(next), plaintext: unpadPlaintext(padded) };
}

// ---- local storage ----

/**
 * version(1) || groupId(32) || distributionId(16) || epoch(u64) || rosterHash(32) || iteration(u32) || chainKey(32)
 * || signingPublicKey(32) || hasSecret(u8) [|| signingSecretKey(32)] || skippedCount(u16 ≤ 2000) || [iteration(u32) || seed(32)]*
 */
export function encodeSenderKeyState(s: SenderKeyState): Uint8Array {
  const w = new Writer(200 + s.skipped.length * 36)
    .u8(SENDER_KEY_STATE_VERSION)
    .fixed(s.groupId, GROUP_ID_BYTES)
    .fixed(s.distributionId, DISTRIBUTION_ID_BYTES)
    .u64(s.epoch)
    .fixed(s.rosterHash, HASH_BYTES)
    .u32(s.iteration)
    .fixed(s.chainKey, KEY_BYTES)
    .fixed(s.signingPublicKey, KEY_BYTES)
    .bool(s.signingSecretKey !== null);
  if (s.signingSecretKey !== null) w.fixed(s.signingSecretKey, KEY_BYTES);
  if (s.skipped.length > MAX_GROUP_SKIPPED_KEYS) throw new ProtocolError('FIELD_TOO_LARGE', 'too many skipped keys');
  w.u16(s.skipped.length);
  for (const k of s.skipped) w.u32(k.iteration).fixed(k.seed, KEY_BYTES);
  return w.finish();
}

export function decodeSenderKeyState(bytes: Uint8Array): SenderKeyState {
  const r = new Reader(bytes);
  expectVersion(r.u8(), SENDER_KEY_STATE_VERSION, 'sender key state');
  const groupId = r.fixed(GROUP_ID_BYTES);
  const distributionId = r.fixed(DISTRIBUTION_ID_BYTES);
  const epoch = r.u64();
  const rosterHash = r.fixed(HASH_BYTES);
  const iteration = r.u32();
  const chainKey = r.fixed(KEY_BYTES);
  const signingPublicKey = r.fixed(KEY_BYTES);
  const signingSecretKey = r.bool() ? r.fixed(KEY_BYTES) : null;
  const count = r.u16();
  if (count > MAX_GROUP_SKIPPED_KEYS) throw new ProtocolError('FIELD_TOO_LARGE', `${count} skipped keys exceed ${MAX_GROUP_SKIPPED_KEYS}`);
  const skipped: SkippedSeed[] = [];
  for (let i = 0; i < count; i++) {
    const it = r.u32();
    if (it >= iteration) throw new ProtocolError('BAD_FIELD', 'skipped iteration not below the chain');
    skipped.push({ iteration: it, seed: r.fixed(KEY_BYTES) });
  }
  r.end();
  return make({ groupId, distributionId, epoch, rosterHash, iteration, chainKey, signingPublicKey, signingSecretKey, skipped });
}
