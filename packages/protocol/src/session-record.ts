/**
 * A SessionRecord holds every session with ONE remote device: the active one (used to
 * send) and up to MAX_PREVIOUS_SESSIONS earlier ones (kept to decrypt late messages and
 * to converge after simultaneous initiation), as libsignal's SessionRecord does.
 *
 * Previous sessions are kept in encoded form: encoding a record per message then costs one
 * session encode plus byte copies, and a previous session is only decoded when a message
 * actually has to be tried against it.
 */
import { toHex } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import { CERTIFICATE_BYTES, MAX_PREVIOUS_SESSIONS, MAX_SESSION_STATE_BYTES, SESSION_RECORD_VERSION } from './constants.js';
import { ProtocolError } from './errors.js';
import { readCertificateField, writeCertificateField } from './identity.js';
import type { DeviceCertificate } from './identity.js';
import { INSPECT } from './redact.js';
import { decodeSessionState, encodeSessionState } from './session-state.js';
import type { SessionState } from './session-state.js';
import { expectVersion } from './codec-helpers.js';

declare const opaque: unique symbol;
/** Readonly and opaque to callers: persist it with encodeSessionRecord. */
export interface SessionRecord {
  readonly [opaque]: 'SessionRecord';
}

export interface RecordData {
  readonly remote: DeviceCertificate;
  readonly active: SessionState | null;
  /** Encoded SessionStates, most recently active first. */
  readonly previous: readonly Uint8Array[];
}

/** Secrets (root, chain and message keys) never show up in logs: the hooks print a summary. */
class RecordValue implements RecordData {
  constructor(
    readonly remote: DeviceCertificate,
    readonly active: SessionState | null,
    readonly previous: readonly Uint8Array[],
  ) {}
  toJSON(): unknown {
    return {
      type: 'SessionRecord',
      remoteIdentityKey: toHex(this.remote.deviceIdentityKey),
      active: this.active !== null,
      previous: this.previous.length,
    };
  }
  toString(): string {
    return JSON.stringify(this.toJSON());
  }
  [INSPECT](): unknown {
    return this.toJSON();
  }
}

export function makeRecord(data: RecordData): SessionRecord {
  const previous = data.previous.length > MAX_PREVIOUS_SESSIONS ? data.previous.slice(0, MAX_PREVIOUS_SESSIONS) : data.previous;
  return new RecordValue(data.remote, data.active, previous) as unknown as SessionRecord;
}

export function recordData(record: SessionRecord): RecordData {
  return record as unknown as RecordData;
}

export function hasActiveSession(record: SessionRecord | undefined): boolean {
  return record !== undefined && recordData(record).active !== null;
}

/** The remote device this record talks to (its certificate as first seen). */
export function sessionRecordRemote(record: SessionRecord): DeviceCertificate {
  return recordData(record).remote;
}

/**
 * version(1) || remote certificate (u32 len) || hasActive(u8) [|| active state (u32 len)]
 * || previousCount(u8) || previous states (u32 len each)
 */
export function encodeSessionRecord(record: SessionRecord): Uint8Array {
  const data = recordData(record);
  const active = data.active === null ? null : encodeSessionState(data.active);
  // Exact size (the certificate field is fixed-size), so the Writer hands its buffer over.
  let size = 1 + 4 + CERTIFICATE_BYTES + 1 + (active === null ? 0 : 4 + active.length) + 1;
  for (const p of data.previous) size += p.length + 4;
  const w = new Writer(size).u8(SESSION_RECORD_VERSION);
  writeCertificateField(w, data.remote);
  if (active === null) w.u8(0);
  else w.u8(1).bytes(active, MAX_SESSION_STATE_BYTES);
  w.u8(data.previous.length);
  for (const p of data.previous) w.bytes(p, MAX_SESSION_STATE_BYTES);
  return w.finish();
}

export function decodeSessionRecord(bytes: Uint8Array): SessionRecord {
  // One private copy of the caller's bytes; every state field and previous session is a view
  // into it (the caller may reuse its buffer, the record's bytes are never written to).
  const r = new Reader(bytes.slice());
  expectVersion(r.u8(), SESSION_RECORD_VERSION, 'session record');
  const remote = readCertificateField(r);
  const active = r.bool() ? decodeSessionState(r.bytesView(MAX_SESSION_STATE_BYTES)) : null;
  const count = r.u8();
  if (count > MAX_PREVIOUS_SESSIONS) throw new ProtocolError('FIELD_TOO_LARGE', 'too many previous sessions');
  const previous: Uint8Array[] = [];
  for (let i = 0; i < count; i++) previous.push(r.bytesView(MAX_SESSION_STATE_BYTES));
  r.end();
  return makeRecord({ remote, active, previous });
}
