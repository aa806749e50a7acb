/**
 * The session API the client uses: PQXDH to start, the Double Ratchet to talk, several
 * sessions per remote device (libsignal's SessionRecord model). All functions are pure:
 * they return a new record and never touch the one passed in.
 *
 * Which session is active (docs/protocol.md "Session selection"):
 * - initiateSession makes the new session active.
 * - A prekey message whose base key matches a stored session is decrypted in that session
 *   (a duplicate or a later prekey message of the same initiation), never re-run.
 * - A prekey message with a new base key creates a session that becomes active, except
 *   during simultaneous initiation: when our active session is one we initiated and that
 *   has not heard back yet, the session with the lower base key wins on both sides, so
 *   both devices settle on the same session without another round trip.
 * - A whisper message is tried against the active session, then the previous ones; one
 *   that succeeds in a previous session promotes it (the peer has answered in it). Prekey
 *   messages never promote: they only show what the peer sent before it heard from us.
 */
import { compareBytesForTieBreak } from './tie-break.js';
import { equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { asProtocolError } from './codec-helpers.js';
import { verifyPreKeyBundle } from './bundle.js';
import type { PreKeyBundle } from './bundle.js';
import { MAX_PREVIOUS_SESSIONS } from './constants.js';
import { ProtocolError } from './errors.js';
import { sameDevice, verifyDeviceCertificate } from './identity.js';
import type { DeviceCertificate, DeviceKeys } from './identity.js';
import { decodePreKeyMessage, decodeWhisperMessage, encodePreKeyMessage } from './messages.js';
import type { CiphertextMessage, WhisperMessage } from './messages.js';
import { checkPlaintextSize, padPlaintext, unpadPlaintext } from './padding.js';
import { pqxdhInitiate, pqxdhRespond } from './pqxdh.js';
import type { KemPreKeyPair, OneTimePreKeyPair, SignedPreKeyPair } from './prekeys.js';
import { ratchetDecrypt, ratchetEncrypt } from './ratchet.js';
import { makeRecord, recordData } from './session-record.js';
import type { RecordData, SessionRecord } from './session-record.js';
import { baseKeyOfEncoded, decodeSessionState, encodeSessionState } from './session-state.js';
import type { SessionState } from './session-state.js';

export type { CiphertextMessage } from './messages.js';

/** The local device's private prekeys, looked up when a PQXDH initial message arrives. */
export interface PreKeyStore {
  signedPreKey(id: number): Promise<SignedPreKeyPair | undefined>;
  oneTimePreKey(id: number): Promise<OneTimePreKeyPair | undefined>;
  kemPreKey(id: number): Promise<KemPreKeyPair | undefined>;
}

export interface DecryptResult {
  readonly record: SessionRecord;
  readonly plaintext: Uint8Array;
  /** One-time prekeys this message used up: delete them in the same transaction that stores `record`. */
  readonly consumed: { oneTimePreKeyId: number | null; kemOneTimePreKeyId: number | null };
}

const NOTHING_CONSUMED = Object.freeze({ oneTimePreKeyId: null, kemOneTimePreKeyId: null });

/** The record after `active` becomes the active session; the old active one is archived first. */
function withNewActive(data: RecordData | undefined, remote: DeviceCertificate, active: SessionState, dropPrevious = -1): SessionRecord {
  const previous: Uint8Array[] = [];
  if (data?.active) previous.push(encodeSessionState(data.active));
  if (data) for (let i = 0; i < data.previous.length; i++) if (i !== dropPrevious) previous.push(data.previous[i]!);
  return makeRecord({ remote, active, previous: previous.slice(0, MAX_PREVIOUS_SESSIONS) });
}

export async function initiateSession(
  crypto: CryptoBackend,
  ours: DeviceKeys,
  record: SessionRecord | undefined,
  bundle: PreKeyBundle,
  now: number,
): Promise<SessionRecord> {
  void now; // Part of the contract for a later prekey-age policy; PQXDH itself needs no clock.
  const data = record === undefined ? undefined : recordData(record);
  if (data && !sameDevice(data.remote, bundle.certificate)) {
    throw new ProtocolError('IDENTITY_MISMATCH', 'bundle is for another device than this record');
  }
  await verifyPreKeyBundle(crypto, bundle);
  try {
    const state = await pqxdhInitiate(crypto, ours, bundle);
    return withNewActive(data, data?.remote ?? bundle.certificate, state);
  } catch (error) {
    throw asProtocolError(error, 'BAD_FIELD', 'session setup failed');
  }
}

export async function sessionEncrypt(
  crypto: CryptoBackend,
  record: SessionRecord,
  plaintext: Uint8Array,
  now: number,
): Promise<{ record: SessionRecord; message: CiphertextMessage }> {
  void now; // Reserved (e.g. expiring an unanswered prekey session); encryption itself needs no clock.
  const data = recordData(record);
  const active = data.active;
  if (active === null) throw new ProtocolError('NO_SESSION', 'no active session');
  checkPlaintextSize(plaintext);
  try {
    const { state, whisper } = await ratchetEncrypt(crypto, active, padPlaintext(plaintext));
    const next = makeRecord({ remote: data.remote, active: state, previous: data.previous });
    if (active.pending === null) return { record: next, message: { kind: 'whisper', bytes: whisper } };
    return { record: next, message: { kind: 'prekey', bytes: encodePreKeyMessage(active.pending, whisper) } };
  } catch (error) {
    throw asProtocolError(error, 'BAD_FIELD', 'encryption failed');
  }
}

export async function sessionDecrypt(
  crypto: CryptoBackend,
  ours: DeviceKeys,
  record: SessionRecord | undefined,
  prekeys: PreKeyStore,
  sender: DeviceCertificate,
  message: CiphertextMessage,
  now: number,
): Promise<DecryptResult> {
  try {
    const data = record === undefined ? undefined : recordData(record);
    if (data && !sameDevice(data.remote, sender)) throw new ProtocolError('IDENTITY_MISMATCH', 'sender is not this record\'s device');
    if (message.kind === 'prekey') return await decryptPreKeyMessage(crypto, ours, data, prekeys, sender, message.bytes, now);
    if (message.kind !== 'whisper') throw new ProtocolError('UNKNOWN_TYPE', 'unknown message kind');
    if (!data) throw new ProtocolError('NO_SESSION', 'no session with this device');
    return await decryptWhisperMessage(crypto, data, decodeWhisperMessage(message.bytes), now);
  } catch (error) {
    throw asProtocolError(error, 'DECRYPT_FAILED', 'decryption failed');
  }
}

async function decryptPreKeyMessage(
  crypto: CryptoBackend,
  ours: DeviceKeys,
  data: RecordData | undefined,
  prekeys: PreKeyStore,
  sender: DeviceCertificate,
  bytes: Uint8Array,
  now: number,
): Promise<DecryptResult> {
  const msg = decodePreKeyMessage(bytes);
  if (!sameDevice(msg.certificate, sender)) throw new ProtocolError('IDENTITY_MISMATCH', 'prekey message certificate is not the sender\'s');
  const whisper = decodeWhisperMessage(msg.whisper);
  const digest = await crypto.sha256(bytes.subarray(0, bytes.length - 4 - msg.whisper.length));
  const checkOrigin = (state: SessionState): SessionState => {
    if (state.preKeyDigest === null || !equalBytes(state.preKeyDigest, digest)) {
      throw new ProtocolError('DECRYPT_FAILED', 'prekey message header differs from the one that created its session');
    }
    return state;
  };

  // Same initiation seen before (duplicate or a later message sent before our reply): reuse its session.
  if (data) {
    if (data.active && equalBytes(data.active.baseKey, msg.baseKey)) {
      const { state, padded } = await ratchetDecrypt(crypto, checkOrigin(data.active), whisper, now);
      const next = makeRecord({ remote: data.remote, active: state, previous: data.previous });
      return { record: next, plaintext: unpadPlaintext(padded), consumed: NOTHING_CONSUMED };
    }
    for (let i = 0; i < data.previous.length; i++) {
      const baseKey = baseKeyOfEncoded(data.previous[i]!);
      if (baseKey === null || !equalBytes(baseKey, msg.baseKey)) continue;
      const { state, padded } = await ratchetDecrypt(crypto, checkOrigin(decodeSessionState(data.previous[i]!)), whisper, now);
      const previous = data.previous.slice();
      previous[i] = encodeSessionState(state);
      return { record: makeRecord({ remote: data.remote, active: data.active, previous }), plaintext: unpadPlaintext(padded), consumed: NOTHING_CONSUMED };
    }
  }

  // A new initiation: run PQXDH as the responder.
  await verifyDeviceCertificate(crypto, msg.certificate);
  const signed = await prekeys.signedPreKey(msg.signedPreKeyId);
  if (!signed) throw new ProtocolError('UNKNOWN_PREKEY', `no signed prekey ${msg.signedPreKeyId}`);
  const kem = await prekeys.kemPreKey(msg.kemPreKeyId);
  if (!kem) throw new ProtocolError('UNKNOWN_PREKEY', `no KEM prekey ${msg.kemPreKeyId}`);
  let oneTime: OneTimePreKeyPair | null = null;
  if (msg.oneTimePreKeyId !== null) {
    oneTime = (await prekeys.oneTimePreKey(msg.oneTimePreKeyId)) ?? null;
    if (!oneTime) throw new ProtocolError('UNKNOWN_PREKEY', `no one-time prekey ${msg.oneTimePreKeyId}`);
  }
  const initial = await pqxdhRespond(crypto, ours, { signed, oneTime, kem }, msg, digest);
  const { state, padded } = await ratchetDecrypt(crypto, initial, whisper, now);
  const plaintext = unpadPlaintext(padded);
  const consumed = { oneTimePreKeyId: msg.oneTimePreKeyId, kemOneTimePreKeyId: kem.lastResort ? null : kem.id };
  const remote = data?.remote ?? msg.certificate;

  const active = data?.active;
  if (active && active.pending !== null && compareBytesForTieBreak(active.baseKey, state.baseKey) < 0) {
    // Simultaneous initiation and our session wins: keep it active, file the new one first in line.
    const previous = [encodeSessionState(state), ...(data?.previous ?? [])];
    return { record: makeRecord({ remote, active, previous }), plaintext, consumed };
  }
  return { record: withNewActive(data, remote, state), plaintext, consumed };
}

const ERROR_PRIORITY: readonly ProtocolError['code'][] = ['DUPLICATE_MESSAGE', 'TOO_MANY_SKIPPED', 'DECRYPT_FAILED'];

async function decryptWhisperMessage(crypto: CryptoBackend, data: RecordData, msg: WhisperMessage, now: number): Promise<DecryptResult> {
  let best: ProtocolError | null = null;
  const remember = (error: unknown): void => {
    const e = asProtocolError(error, 'DECRYPT_FAILED', 'decryption failed');
    const rank = (x: ProtocolError): number => {
      const i = ERROR_PRIORITY.indexOf(x.code);
      return i < 0 ? ERROR_PRIORITY.length : i;
    };
    if (best === null || rank(e) < rank(best)) best = e;
  };

  if (data.active) {
    try {
      const { state, padded } = await ratchetDecrypt(crypto, data.active, msg, now);
      const plaintext = unpadPlaintext(padded);
      return { record: makeRecord({ remote: data.remote, active: state, previous: data.previous }), plaintext, consumed: NOTHING_CONSUMED };
    } catch (error) {
      remember(error);
    }
  }
  for (let i = 0; i < data.previous.length; i++) {
    let candidate: SessionState;
    try {
      candidate = decodeSessionState(data.previous[i]!);
    } catch {
      continue; // A damaged archived session cannot decrypt anything; the others still can.
    }
    try {
      const { state, padded } = await ratchetDecrypt(crypto, candidate, msg, now);
      const plaintext = unpadPlaintext(padded);
      // The peer answered in this session: make it active again (promotion).
      return { record: withNewActive(data, data.remote, state, i), plaintext, consumed: NOTHING_CONSUMED };
    } catch (error) {
      remember(error);
    }
  }
  throw best ?? new ProtocolError('NO_SESSION', 'no session with this device');
}
