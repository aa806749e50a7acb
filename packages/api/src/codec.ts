/**
 * Binary codec of the client<->relay frames (docs/relay-api.md is normative).
 * Layout of every frame: [version u8 = API_VERSION][type u8][body]; all integers big-endian;
 * requests and their replies start the body with the request id (u32).
 *
 * Decoding is total: any input either yields a frame or throws ApiDecodeError with a code
 * (BAD_FRAME, UNSUPPORTED_VERSION, UNEXPECTED_FRAME, FRAME_TOO_LARGE, LIMIT_EXCEEDED).
 * Encoding validates the same bounds, so whatever one side encodes the other side accepts.
 */
import { ProtocolError, Reader, Writer } from '@pigeon/protocol';
import { ApiDecodeError } from './decode-error.js';
import { RELAY_ERROR_CODES, RelayError } from './errors.js';
import { CLIENT_FRAME_BY_BYTE, CLIENT_FRAME_TYPES, RELAY_FRAME_BY_BYTE, RELAY_FRAME_TYPES } from './frame-types.js';
import { API_VERSION } from './frames.js';
import type { ClientFrame, RelayFrame, WirePreKey, WireSignedPreKey } from './frames.js';
import {
  CHALLENGE_NONCE_BYTES,
  ID_BYTES,
  KEM_PREKEY_BYTES,
  MAX_ACK_IDS,
  MAX_BUNDLE_BYTES,
  MAX_CERTIFICATE_BYTES,
  MAX_DELIVERY_TOKEN_BYTES,
  MAX_DEVICE_LIST_BYTES,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_ENVELOPE_BYTES,
  MAX_PROVISIONING_ENVELOPE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  MAX_PREKEYS_PER_UPLOAD,
  MAX_TOKENS_PER_REQUEST,
  MIN_DELIVERY_TOKEN_BYTES,
  SIGNATURE_BYTES,
  X25519_PREKEY_BYTES,
} from './limits.js';

const U32_MAX = 0xffffffff;

// ---- shared helpers -----------------------------------------------------------

/** `capacity` = the frame's exact size when known, so finish() hands the buffer over without a copy. */
function header(type: number, capacity: number | undefined): Writer {
  const exact = capacity !== undefined && Number.isSafeInteger(capacity) && capacity >= 2;
  return new Writer(exact ? capacity : 64).u8(API_VERSION).u8(type);
}

/** Exact sizes of the per-message frames (version, type, then the fields in encode order). */
function clientFrameSize(frame: ClientFrame): number | undefined {
  switch (frame.type) {
    case 'send':
      return 2 + 4 + 2 * ID_BYTES + 4 + frame.deliveryToken.length + 4 + frame.envelope.length;
    case 'ack':
      return 2 + 4 + 2 + ID_BYTES * frame.messageIds.length;
    default:
      return undefined;
  }
}
function relayFrameSize(frame: RelayFrame): number | undefined {
  switch (frame.type) {
    case 'deliver':
      return 2 + ID_BYTES + 8 + 4 + frame.envelope.length;
    case 'ok':
    case 'pong':
      return 2 + 4;
    case 'queue_empty':
      return 2;
    default:
      return undefined;
  }
}

/** Runs an encoder and turns low-level writer failures into the API error model. */
function encoding(what: string, run: () => Uint8Array): Uint8Array {
  let out: Uint8Array;
  try {
    out = run();
  } catch (cause) {
    if (cause instanceof RelayError) throw cause;
    throw new RelayError('BAD_FRAME', `cannot encode ${what}: ${cause instanceof Error ? cause.message : 'invalid field'}`, 0, { cause });
  }
  if (out.length > MAX_FRAME_BYTES) throw new RelayError('FRAME_TOO_LARGE', `${what} frame is ${out.length} bytes`);
  return out;
}

function checkCount(count: number, max: number, what: string): void {
  if (count > max) throw new RelayError('LIMIT_EXCEEDED', `${count} ${what} exceed the limit of ${max}`);
}

function writeList<T>(w: Writer, items: readonly T[], max: number, what: string, each: (item: T) => void): void {
  checkCount(items.length, max, what);
  w.u16(items.length);
  for (const item of items) each(item);
}

function writeToken(w: Writer, token: Uint8Array, minLength = 0): void {
  if (token.length < minLength) throw new RelayError('BAD_FRAME', `delivery token shorter than ${minLength} bytes`);
  w.bytes(token, MAX_DELIVERY_TOKEN_BYTES);
}

/**
 * Reads the list count, refusing counts above `max` with LIMIT_EXCEEDED (a well-formed but
 * too-large request, answered as such) before reading any element.
 */
function readCount(r: Reader, max: number, what: string, requestId: number): number {
  const count = r.u16();
  if (count > max) throw new ApiDecodeError('LIMIT_EXCEEDED', `${count} ${what} exceed the limit of ${max}`, requestId);
  return count;
}

function readToken(r: Reader, minLength: number): Uint8Array {
  const token = r.bytes(MAX_DELIVERY_TOKEN_BYTES);
  if (token.length < minLength) throw new ProtocolError('BAD_FIELD', `delivery token shorter than ${minLength} bytes`);
  return token;
}

/** A reader over a private copy of `bytes`, past the header (its byte fields may be taken as views). */
function ownedReader(bytes: Uint8Array): Reader {
  // Not bytes.slice(): on a Node Buffer (what ws hands the relay) that is a view, not a copy.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const reader = new Reader(copy);
  reader.u8();
  reader.u8();
  return reader;
}

interface Header {
  readonly reader: Reader;
  readonly typeByte: number;
}

function readHeader(bytes: Uint8Array): Header {
  if (!(bytes instanceof Uint8Array)) throw new ApiDecodeError('BAD_FRAME', 'frame is not binary');
  if (bytes.length > MAX_FRAME_BYTES) throw new ApiDecodeError('FRAME_TOO_LARGE', `frame of ${bytes.length} bytes`);
  if (bytes.length < 2) throw new ApiDecodeError('BAD_FRAME', 'frame shorter than its header');
  const version = bytes[0]!;
  if (version !== API_VERSION) throw new ApiDecodeError('UNSUPPORTED_VERSION', `frame version ${version}, expected ${API_VERSION}`);
  const reader = new Reader(bytes);
  reader.u8();
  return { reader, typeByte: reader.u8() };
}

/** Maps reader failures (TRUNCATED, TRAILING_BYTES, FIELD_TOO_LARGE, BAD_FIELD) to BAD_FRAME. */
function decoding<T>(what: string, requestId: () => number, run: () => T): T {
  try {
    return run();
  } catch (cause) {
    if (cause instanceof ApiDecodeError) throw cause;
    const detail = cause instanceof ProtocolError ? cause.code : 'malformed';
    throw new ApiDecodeError('BAD_FRAME', `malformed ${what} frame (${detail})`, requestId(), { cause });
  }
}

// ---- prekeys --------------------------------------------------------------------

function writePreKey(w: Writer, k: WirePreKey, keyBytes: number): void {
  w.u32(k.id).fixed(k.publicKey, keyBytes);
}
function writeSignedPreKey(w: Writer, k: WireSignedPreKey, keyBytes: number): void {
  w.u32(k.id).fixed(k.publicKey, keyBytes).fixed(k.signature, SIGNATURE_BYTES);
}
function writeOptionalSignedPreKey(w: Writer, k: WireSignedPreKey | null, keyBytes: number): void {
  w.bool(k !== null);
  if (k !== null) writeSignedPreKey(w, k, keyBytes);
}
function readPreKey(r: Reader, keyBytes: number): WirePreKey {
  return { id: r.u32(), publicKey: r.fixed(keyBytes) };
}
function readSignedPreKey(r: Reader, keyBytes: number): WireSignedPreKey {
  return { id: r.u32(), publicKey: r.fixed(keyBytes), signature: r.fixed(SIGNATURE_BYTES) };
}
function readOptionalSignedPreKey(r: Reader, keyBytes: number): WireSignedPreKey | null {
  return r.bool() ? readSignedPreKey(r, keyBytes) : null;
}

// ---- client -> relay -----------------------------------------------------------------

export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  return encoding(frame.type, () => {
    const w = header(CLIENT_FRAME_TYPES[frame.type], clientFrameSize(frame)).u32(frame.id);
    switch (frame.type) {
      case 'register':
        w.bytes(frame.certificate, MAX_CERTIFICATE_BYTES).fixed(frame.signature, SIGNATURE_BYTES);
        break;
      case 'auth':
        w.fixed(frame.deviceId, ID_BYTES).fixed(frame.signature, SIGNATURE_BYTES);
        break;
      case 'upload_prekeys':
        writeOptionalSignedPreKey(w, frame.signedPreKey, X25519_PREKEY_BYTES);
        writeOptionalSignedPreKey(w, frame.kemLastResortPreKey, KEM_PREKEY_BYTES);
        writeList(w, frame.oneTimePreKeys, MAX_PREKEYS_PER_UPLOAD, 'one-time prekeys', (k) => writePreKey(w, k, X25519_PREKEY_BYTES));
        writeList(w, frame.kemOneTimePreKeys, MAX_PREKEYS_PER_UPLOAD, 'ML-KEM one-time prekeys', (k) =>
          writeSignedPreKey(w, k, KEM_PREKEY_BYTES),
        );
        break;
      case 'prekey_status':
      case 'ping':
        break;
      case 'fetch_bundles':
        w.fixed(frame.accountId, ID_BYTES);
        writeToken(w, frame.deliveryToken);
        break;
      case 'send':
        w.fixed(frame.messageId, ID_BYTES).fixed(frame.recipientDeviceId, ID_BYTES);
        writeToken(w, frame.deliveryToken);
        w.bytes(frame.envelope, MAX_ENVELOPE_BYTES);
        break;
      case 'ack':
        writeList(w, frame.messageIds, MAX_ACK_IDS, 'message ids', (id) => w.fixed(id, ID_BYTES));
        break;
      case 'set_delivery_tokens':
        writeList(w, frame.add, MAX_TOKENS_PER_REQUEST, 'tokens to add', (t) => writeToken(w, t, MIN_DELIVERY_TOKEN_BYTES));
        writeList(w, frame.remove, MAX_TOKENS_PER_REQUEST, 'tokens to remove', (t) => writeToken(w, t));
        break;
      case 'put_device_list':
        w.bytes(frame.deviceList, MAX_DEVICE_LIST_BYTES);
        break;
      case 'fetch_device_list':
      case 'fetch_device_bundles':
        w.fixed(frame.accountId, ID_BYTES);
        writeToken(w, frame.deliveryToken);
        break;
      case 'provision_open':
        w.fixed(frame.provisioningId, ID_BYTES);
        break;
      case 'provision_send':
        w.fixed(frame.provisioningId, ID_BYTES).bytes(frame.envelope, MAX_PROVISIONING_ENVELOPE_BYTES);
        break;
    }
    return w.finish();
  });
}

export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const { reader: headerReader, typeByte } = readHeader(bytes);
  const type = CLIENT_FRAME_BY_BYTE.get(typeByte);
  if (type === undefined) {
    if (RELAY_FRAME_BY_BYTE.has(typeByte)) {
      throw new ApiDecodeError('UNEXPECTED_FRAME', `relay frame type 0x${typeByte.toString(16)} sent by a client`);
    }
    throw new ApiDecodeError('BAD_FRAME', `unknown frame type 0x${typeByte.toString(16)}`);
  }
  // A `send` (one per message) copies the frame once and hands out its fields as views into that
  // private copy: one allocation instead of four. Other frames copy field by field.
  const r = type === 'send' ? ownedReader(bytes) : headerReader;
  let id = 0;
  return decoding(type, () => id, () => {
    id = r.u32();
    let frame: ClientFrame;
    switch (type) {
      case 'register':
        frame = { type, id, certificate: r.bytes(MAX_CERTIFICATE_BYTES), signature: r.fixed(SIGNATURE_BYTES) };
        break;
      case 'auth':
        frame = { type, id, deviceId: r.fixed(ID_BYTES), signature: r.fixed(SIGNATURE_BYTES) };
        break;
      case 'upload_prekeys': {
        const signedPreKey = readOptionalSignedPreKey(r, X25519_PREKEY_BYTES);
        const kemLastResortPreKey = readOptionalSignedPreKey(r, KEM_PREKEY_BYTES);
        const oneTimePreKeys: WirePreKey[] = [];
        for (let n = readCount(r, MAX_PREKEYS_PER_UPLOAD, 'one-time prekeys', id); n > 0; n--) {
          oneTimePreKeys.push(readPreKey(r, X25519_PREKEY_BYTES));
        }
        const kemOneTimePreKeys: WireSignedPreKey[] = [];
        for (let n = readCount(r, MAX_PREKEYS_PER_UPLOAD, 'ML-KEM one-time prekeys', id); n > 0; n--) {
          kemOneTimePreKeys.push(readSignedPreKey(r, KEM_PREKEY_BYTES));
        }
        frame = { type, id, signedPreKey, kemLastResortPreKey, oneTimePreKeys, kemOneTimePreKeys };
        break;
      }
      case 'prekey_status':
      case 'ping':
        frame = { type, id };
        break;
      case 'fetch_bundles':
        frame = { type, id, accountId: r.fixed(ID_BYTES), deliveryToken: readToken(r, 0) };
        break;
      case 'send': {
        const messageId = r.fixedView(ID_BYTES);
        const recipientDeviceId = r.fixedView(ID_BYTES);
        const deliveryToken = r.bytesView(MAX_DELIVERY_TOKEN_BYTES);
        frame = { type, id, messageId, recipientDeviceId, deliveryToken, envelope: r.bytesView(MAX_ENVELOPE_BYTES) };
        break;
      }
      case 'ack': {
        const messageIds: Uint8Array[] = [];
        for (let n = readCount(r, MAX_ACK_IDS, 'message ids', id); n > 0; n--) messageIds.push(r.fixed(ID_BYTES));
        frame = { type, id, messageIds };
        break;
      }
      case 'set_delivery_tokens': {
        const add: Uint8Array[] = [];
        for (let n = readCount(r, MAX_TOKENS_PER_REQUEST, 'tokens to add', id); n > 0; n--) add.push(readToken(r, MIN_DELIVERY_TOKEN_BYTES));
        const remove: Uint8Array[] = [];
        for (let n = readCount(r, MAX_TOKENS_PER_REQUEST, 'tokens to remove', id); n > 0; n--) remove.push(readToken(r, 0));
        frame = { type, id, add, remove };
        break;
      }
      case 'put_device_list':
        frame = { type, id, deviceList: r.bytes(MAX_DEVICE_LIST_BYTES) };
        break;
      case 'fetch_device_list':
      case 'fetch_device_bundles':
        frame = { type, id, accountId: r.fixed(ID_BYTES), deliveryToken: readToken(r, 0) };
        break;
      case 'provision_open':
        frame = { type, id, provisioningId: r.fixed(ID_BYTES) };
        break;
      case 'provision_send':
        frame = { type, id, provisioningId: r.fixed(ID_BYTES), envelope: r.bytes(MAX_PROVISIONING_ENVELOPE_BYTES) };
        break;
    }
    r.end();
    return frame;
  });
}

// ---- relay -> client -----------------------------------------------------------------

const ERROR_CODE_INDEX = new Map<string, number>(RELAY_ERROR_CODES.map((code, i) => [code, i]));

export function encodeRelayFrame(frame: RelayFrame): Uint8Array {
  return encoding(frame.type, () => {
    const w = header(RELAY_FRAME_TYPES[frame.type], relayFrameSize(frame));
    switch (frame.type) {
      case 'challenge':
        w.fixed(frame.nonce, CHALLENGE_NONCE_BYTES).u64(frame.relayTime);
        break;
      case 'ok':
      case 'pong':
        w.u32(frame.id);
        break;
      case 'error': {
        const code = ERROR_CODE_INDEX.get(frame.code);
        if (code === undefined) throw new RelayError('BAD_FRAME', 'unknown error code');
        w.u32(frame.id).u8(code).string(frame.message, MAX_ERROR_MESSAGE_BYTES).u32(frame.retryAfterMs);
        break;
      }
      case 'bundles':
        w.u32(frame.id);
        writeList(w, frame.bundles, MAX_DEVICES_PER_ACCOUNT, 'bundles', (b) => w.bytes(b, MAX_BUNDLE_BYTES));
        break;
      case 'prekey_status_result':
        w.u32(frame.id).u32(frame.oneTimePreKeys).u32(frame.kemOneTimePreKeys);
        break;
      case 'deliver':
        w.fixed(frame.messageId, ID_BYTES).u64(frame.receivedAt).bytes(frame.envelope, MAX_ENVELOPE_BYTES);
        break;
      case 'queue_empty':
        break;
      case 'device_list':
        w.u32(frame.id).bytes(frame.deviceList, MAX_DEVICE_LIST_BYTES);
        break;
      case 'device_bundles':
        w.u32(frame.id).bytes(frame.deviceList, MAX_DEVICE_LIST_BYTES);
        writeList(w, frame.bundles, MAX_DEVICES_PER_ACCOUNT, 'bundles', (b) => w.bytes(b, MAX_BUNDLE_BYTES));
        break;
      case 'provision_message':
        w.fixed(frame.provisioningId, ID_BYTES).bytes(frame.envelope, MAX_PROVISIONING_ENVELOPE_BYTES);
        break;
    }
    return w.finish();
  });
}

export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  const { reader: r, typeByte } = readHeader(bytes);
  const type = RELAY_FRAME_BY_BYTE.get(typeByte);
  if (type === undefined) {
    if (CLIENT_FRAME_BY_BYTE.has(typeByte)) {
      throw new ApiDecodeError('UNEXPECTED_FRAME', `client frame type 0x${typeByte.toString(16)} sent by a relay`);
    }
    throw new ApiDecodeError('BAD_FRAME', `unknown frame type 0x${typeByte.toString(16)}`);
  }
  return decoding(type, () => 0, () => {
    let frame: RelayFrame;
    switch (type) {
      case 'challenge':
        frame = { type, nonce: r.fixed(CHALLENGE_NONCE_BYTES), relayTime: r.u64() };
        break;
      case 'ok':
      case 'pong':
        frame = { type, id: r.u32() };
        break;
      case 'error': {
        const id = r.u32();
        const code = RELAY_ERROR_CODES[r.u8()];
        if (code === undefined) throw new ProtocolError('BAD_FIELD', 'unknown error code');
        frame = { type, id, code, message: r.string(MAX_ERROR_MESSAGE_BYTES), retryAfterMs: r.u32() };
        break;
      }
      case 'bundles': {
        const id = r.u32();
        frame = { type, id, bundles: readBundles(r) };
        break;
      }
      case 'device_list':
        frame = { type, id: r.u32(), deviceList: r.bytes(MAX_DEVICE_LIST_BYTES) };
        break;
      case 'device_bundles': {
        const id = r.u32();
        const deviceList = r.bytes(MAX_DEVICE_LIST_BYTES);
        frame = { type, id, deviceList, bundles: readBundles(r) };
        break;
      }
      case 'provision_message':
        frame = { type, provisioningId: r.fixed(ID_BYTES), envelope: r.bytes(MAX_PROVISIONING_ENVELOPE_BYTES) };
        break;
      case 'prekey_status_result':
        frame = { type, id: r.u32(), oneTimePreKeys: r.u32(), kemOneTimePreKeys: r.u32() };
        break;
      case 'deliver':
        frame = { type, messageId: r.fixed(ID_BYTES), receivedAt: r.u64(), envelope: r.bytes(MAX_ENVELOPE_BYTES) };
        break;
      case 'queue_empty':
        frame = { type };
        break;
    }
    r.end();
    return frame;
  });
}

function readBundles(r: Reader): Uint8Array[] {
  const count = r.u16();
  if (count > MAX_DEVICES_PER_ACCOUNT) throw new ProtocolError('FIELD_TOO_LARGE', 'too many bundles');
  const bundles: Uint8Array[] = [];
  for (let n = count; n > 0; n--) bundles.push(r.bytes(MAX_BUNDLE_BYTES));
  return bundles;
}

/** True when `n` fits the u32 request id field. */
export function isValidRequestId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}
