/**
 * The signed device list (docs/protocol.md §13.1): the account key signs the set of devices that
 * speak for the account, with a counter so a newer list supersedes an older one and a relay or
 * peer can never be made to go back to a list that still contained a revoked device.
 */
import { equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { Reader, Writer } from '../codec/index.js';
import { ID_BYTES, KEY_BYTES, SIGNATURE_BYTES } from '../constants.js';
import { asProtocolError, expectVersion } from '../codec-helpers.js';
import { ProtocolError } from '../errors.js';
import { deviceIdOf, verifyDeviceCertificate, type AccountKeys, type DeviceCertificate } from '../identity.js';
import { DEVICE_LIST_VERSION, LABEL_DEVICE_LIST, MAX_DEVICE_LIST_BYTES, MAX_LISTED_DEVICES, MAX_REVOKED_DEVICES } from './constants.js';

export interface DeviceListEntry {
  readonly deviceSigningKey: Uint8Array;
  readonly deviceIdentityKey: Uint8Array;
  /** When the account added the device (ms, from the adding device's clock). */
  readonly addedAt: number;
}

export interface RevokedDevice {
  /** deviceId = SHA-256(deviceSigningKey)[0..16] (§2). */
  readonly deviceId: Uint8Array;
  readonly revokedAt: number;
}

export interface DeviceList {
  readonly accountKey: Uint8Array;
  /** Strictly increases with every change; the higher counter wins (§13.1). */
  readonly counter: number;
  /** Sorted by deviceSigningKey, 1..MAX_LISTED_DEVICES entries. */
  readonly devices: readonly DeviceListEntry[];
  /** Sorted by deviceId, at most MAX_REVOKED_DEVICES. */
  readonly revoked: readonly RevokedDevice[];
  readonly signature: Uint8Array;
}

type UnsignedDeviceList = Omit<DeviceList, 'signature'>;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function writeBody(w: Writer, list: UnsignedDeviceList): Writer {
  if (list.devices.length < 1 || list.devices.length > MAX_LISTED_DEVICES) {
    throw new ProtocolError('DEVICE_LIST_FULL', `a device list holds 1..${MAX_LISTED_DEVICES} devices`);
  }
  if (list.revoked.length > MAX_REVOKED_DEVICES) throw new ProtocolError('FIELD_TOO_LARGE', 'too many revoked devices');
  w.u8(DEVICE_LIST_VERSION).fixed(list.accountKey, KEY_BYTES).u64(list.counter).u8(list.devices.length);
  for (const d of list.devices) w.fixed(d.deviceSigningKey, KEY_BYTES).fixed(d.deviceIdentityKey, KEY_BYTES).u64(d.addedAt);
  w.u16(list.revoked.length);
  for (const r of list.revoked) w.fixed(r.deviceId, ID_BYTES).u64(r.revokedAt);
  return w;
}

/** The signed input: label || the encoding without its signature. */
function signedBytes(list: UnsignedDeviceList): Uint8Array {
  const w = new Writer(256).fixed(LABEL_DEVICE_LIST, LABEL_DEVICE_LIST.length);
  return writeBody(w, list).finish();
}

/**
 * version(1) || accountKey(32) || counter(u64) || count(u8 1..10) || [signingKey(32) || identityKey(32) || addedAt(u64)]*
 * || revokedCount(u16 ≤ 100) || [deviceId(16) || revokedAt(u64)]* || signature(64)
 */
export function encodeDeviceList(list: DeviceList): Uint8Array {
  const out = writeBody(new Writer(256), list).fixed(list.signature, SIGNATURE_BYTES).finish();
  if (out.length > MAX_DEVICE_LIST_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'device list too large');
  return out;
}

/** Decodes and checks the canonical order (strictly ascending keys and ids); does not verify the signature. */
export function decodeDeviceList(bytes: Uint8Array): DeviceList {
  if (bytes.length > MAX_DEVICE_LIST_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'device list too large');
  const r = new Reader(bytes);
  expectVersion(r.u8(), DEVICE_LIST_VERSION, 'device list');
  const accountKey = r.fixed(KEY_BYTES);
  const counter = r.u64();
  const count = r.u8();
  if (count < 1 || count > MAX_LISTED_DEVICES) throw new ProtocolError('BAD_FIELD', `a device list holds 1..${MAX_LISTED_DEVICES} devices`);
  const devices: DeviceListEntry[] = [];
  for (let i = 0; i < count; i++) {
    const entry = { deviceSigningKey: r.fixed(KEY_BYTES), deviceIdentityKey: r.fixed(KEY_BYTES), addedAt: r.u64() };
    const previous = devices[devices.length - 1];
    if (previous && compareBytes(previous.deviceSigningKey, entry.deviceSigningKey) >= 0) {
      throw new ProtocolError('BAD_FIELD', 'device list entries must be sorted by signing key, without repeats');
    }
    devices.push(entry);
  }
  const revokedCount = r.u16();
  if (revokedCount > MAX_REVOKED_DEVICES) throw new ProtocolError('FIELD_TOO_LARGE', 'too many revoked devices');
  const revoked: RevokedDevice[] = [];
  for (let i = 0; i < revokedCount; i++) {
    const entry = { deviceId: r.fixed(ID_BYTES), revokedAt: r.u64() };
    const previous = revoked[revoked.length - 1];
    if (previous && compareBytes(previous.deviceId, entry.deviceId) >= 0) {
      throw new ProtocolError('BAD_FIELD', 'revoked device ids must be sorted, without repeats');
    }
    revoked.push(entry);
  }
  const signature = r.fixed(SIGNATURE_BYTES);
  r.end();
  return { accountKey, counter, devices, revoked, signature };
}

async function sign(crypto: CryptoBackend, account: AccountKeys, list: UnsignedDeviceList): Promise<DeviceList> {
  const devices = [...list.devices].sort((a, b) => compareBytes(a.deviceSigningKey, b.deviceSigningKey));
  let revoked = [...list.revoked];
  if (revoked.length > MAX_REVOKED_DEVICES) {
    // Forget the oldest revocations: a device revoked that long ago has long lost its mailbox.
    revoked.sort((a, b) => b.revokedAt - a.revokedAt || compareBytes(a.deviceId, b.deviceId));
    revoked = revoked.slice(0, MAX_REVOKED_DEVICES);
  }
  revoked.sort((a, b) => compareBytes(a.deviceId, b.deviceId));
  const unsigned: UnsignedDeviceList = { accountKey: account.signing.publicKey.slice(), counter: list.counter, devices, revoked };
  const signature = await crypto.ed25519Sign(account.signing.secretKey, signedBytes(unsigned));
  return { ...unsigned, signature };
}

/** Throws BAD_SIGNATURE unless `list` is signed by its account key (and, if given, that key is `expectedAccountKey`). */
export async function verifyDeviceList(crypto: CryptoBackend, list: DeviceList, expectedAccountKey?: Uint8Array): Promise<void> {
  if (expectedAccountKey !== undefined && !equalBytes(list.accountKey, expectedAccountKey)) {
    throw new ProtocolError('IDENTITY_MISMATCH', 'device list of another account');
  }
  let ok = false;
  try {
    ok = await crypto.ed25519Verify(list.accountKey, signedBytes(list), list.signature);
  } catch (cause) {
    throw asProtocolError(cause, 'BAD_SIGNATURE', 'device list is malformed');
  }
  if (!ok) throw new ProtocolError('BAD_SIGNATURE', 'device list signature does not verify');
}

function entryOf(cert: DeviceCertificate, now: number): DeviceListEntry {
  return { deviceSigningKey: cert.deviceSigningKey.slice(), deviceIdentityKey: cert.deviceIdentityKey.slice(), addedAt: Math.floor(now) };
}

function requireAccount(account: AccountKeys, list: DeviceList): void {
  if (!equalBytes(account.signing.publicKey, list.accountKey)) throw new ProtocolError('IDENTITY_MISMATCH', 'device list of another account');
}

async function requireOwnCertificate(crypto: CryptoBackend, account: AccountKeys, cert: DeviceCertificate): Promise<void> {
  if (!equalBytes(cert.accountKey, account.signing.publicKey)) throw new ProtocolError('IDENTITY_MISMATCH', 'certificate of another account');
  await verifyDeviceCertificate(crypto, cert);
}

/** The first list of an account (counter 1), usually holding just the device that created the account. */
export async function createDeviceList(
  crypto: CryptoBackend,
  account: AccountKeys,
  certificates: readonly DeviceCertificate[],
  now: number,
): Promise<DeviceList> {
  for (const cert of certificates) await requireOwnCertificate(crypto, account, cert);
  const devices = certificates.map((c) => entryOf(c, now));
  const keys = new Set(devices.map((d) => d.deviceSigningKey.join(',')));
  if (keys.size !== devices.length) throw new ProtocolError('INVALID_CHANGE', 'a device is listed twice');
  return sign(crypto, account, { accountKey: account.signing.publicKey, counter: 1, devices, revoked: [] });
}

/**
 * The next list with the certified device added. Refused: a device already listed
 * (INVALID_CHANGE), one the account revoked (DEVICE_REVOKED — a revoked key never comes back),
 * a full list (DEVICE_LIST_FULL). Needs the account secret key: nobody else can add a device.
 */
export async function addDevice(
  crypto: CryptoBackend,
  account: AccountKeys,
  list: DeviceList,
  certificate: DeviceCertificate,
  now: number,
): Promise<DeviceList> {
  requireAccount(account, list);
  await requireOwnCertificate(crypto, account, certificate);
  if (list.devices.some((d) => equalBytes(d.deviceSigningKey, certificate.deviceSigningKey))) {
    throw new ProtocolError('INVALID_CHANGE', 'device already listed');
  }
  const id = await deviceIdOf(crypto, certificate.deviceSigningKey);
  if (list.revoked.some((r) => equalBytes(r.deviceId, id))) throw new ProtocolError('DEVICE_REVOKED', 'device was revoked');
  if (list.devices.length >= MAX_LISTED_DEVICES) throw new ProtocolError('DEVICE_LIST_FULL', `at most ${MAX_LISTED_DEVICES} devices`);
  return sign(crypto, account, { ...list, counter: list.counter + 1, devices: [...list.devices, entryOf(certificate, now)] });
}

/** The next list without the device, which is remembered as revoked. The last device cannot be revoked (INVALID_CHANGE). */
export async function revokeDevice(
  crypto: CryptoBackend,
  account: AccountKeys,
  list: DeviceList,
  deviceId: Uint8Array,
  now: number,
): Promise<DeviceList> {
  requireAccount(account, list);
  const ids = await deviceListIds(crypto, list);
  const index = ids.findIndex((id) => equalBytes(id, deviceId));
  if (index < 0) throw new ProtocolError('NOT_IN_DEVICE_LIST', 'device is not listed');
  if (list.devices.length === 1) throw new ProtocolError('INVALID_CHANGE', 'the last device of an account cannot be revoked');
  const devices = list.devices.filter((_, i) => i !== index);
  const revoked = [...list.revoked, { deviceId: deviceId.slice(), revokedAt: Math.floor(now) }];
  return sign(crypto, account, { ...list, counter: list.counter + 1, devices, revoked });
}

/** Device ids of the listed devices, in list order. */
export async function deviceListIds(crypto: CryptoBackend, list: DeviceList): Promise<Uint8Array[]> {
  return Promise.all(list.devices.map((d) => deviceIdOf(crypto, d.deviceSigningKey)));
}

/** True when the certificate is of this list's account and names exactly a listed device's keys. */
export function deviceListIncludes(list: DeviceList, certificate: DeviceCertificate): boolean {
  return (
    equalBytes(list.accountKey, certificate.accountKey) &&
    list.devices.some(
      (d) => equalBytes(d.deviceSigningKey, certificate.deviceSigningKey) && equalBytes(d.deviceIdentityKey, certificate.deviceIdentityKey),
    )
  );
}

export function isDeviceRevoked(list: DeviceList, deviceId: Uint8Array): boolean {
  return list.revoked.some((r) => equalBytes(r.deviceId, deviceId));
}

export interface DeviceListUpdate {
  /** The list now in force. */
  readonly list: DeviceList;
  /** False when `incoming` is the list already held (same bytes): nothing to do. */
  readonly changed: boolean;
  /** Device ids listed now and not before / listed before and not now. */
  readonly added: readonly Uint8Array[];
  readonly removed: readonly Uint8Array[];
}

/**
 * Decides whether `incoming` supersedes `current` (§13.1): it must verify, be of the same
 * account (IDENTITY_MISMATCH) and carry a higher counter; a lower counter, or the same counter
 * with other contents (a fork only the account key could have made), is STALE_DEVICE_LIST.
 * The same list again is accepted unchanged, so retries are harmless.
 */
export async function acceptDeviceList(crypto: CryptoBackend, current: DeviceList | null, incoming: DeviceList): Promise<DeviceListUpdate> {
  await verifyDeviceList(crypto, incoming, current?.accountKey);
  const incomingIds = await deviceListIds(crypto, incoming);
  if (current === null) return { list: incoming, changed: true, added: incomingIds, removed: [] };
  if (incoming.counter === current.counter && equalBytes(encodeDeviceList(incoming), encodeDeviceList(current))) {
    return { list: current, changed: false, added: [], removed: [] };
  }
  if (incoming.counter <= current.counter) throw new ProtocolError('STALE_DEVICE_LIST', 'device list is not newer than the one held');
  const currentIds = await deviceListIds(crypto, current);
  const has = (ids: readonly Uint8Array[], id: Uint8Array) => ids.some((x) => equalBytes(x, id));
  return {
    list: incoming,
    changed: true,
    added: incomingIds.filter((id) => !has(currentIds, id)),
    removed: currentIds.filter((id) => !has(incomingIds, id)),
  };
}

/** Decodes and verifies in one step (what a peer or relay does with received bytes). */
export async function decodeVerifiedDeviceList(crypto: CryptoBackend, bytes: Uint8Array, expectedAccountKey?: Uint8Array): Promise<DeviceList> {
  const list = decodeDeviceList(bytes);
  await verifyDeviceList(crypto, list, expectedAccountKey);
  return list;
}
