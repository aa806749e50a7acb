/**
 * The group roster: the part of a group's state every member holds identically and whose
 * hash chains the signed group changes together (docs/protocol.md §12.2). Encoding is
 * canonical (members sorted by account key, devices by id, no duplicates) so that equal
 * rosters always have equal bytes and equal hashes.
 */
import { equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { Reader, Writer } from '../codec/index.js';
import { expectVersion } from '../codec-helpers.js';
import { ID_BYTES, KEY_BYTES } from '../constants.js';
import { ProtocolError } from '../errors.js';
import {
  GROUP_ID_BYTES,
  GROUP_ROSTER_VERSION,
  HASH_BYTES,
  LABEL_GROUP_ROSTER_HASH,
  MAX_GROUP_MEMBER_DEVICES,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_NAME_BYTES,
  MAX_GROUP_ROSTER_BYTES,
} from './constants.js';

export interface GroupDevice {
  /** deviceIdOf(device signing key): 16 bytes. */
  readonly deviceId: Uint8Array;
  /** Epoch at which this device entered the group; its sender keys must be at least this new. */
  readonly addedEpoch: number;
}

export interface GroupMember {
  /** The member's Ed25519 account key: signs their own changes (leave, device list). */
  readonly accountKey: Uint8Array;
  readonly admin: boolean;
  /** Epoch at which the member (last) joined. */
  readonly joinedEpoch: number;
  /** Sorted by deviceId, 1..MAX_GROUP_MEMBER_DEVICES. */
  readonly devices: readonly GroupDevice[];
}

export interface GroupRoster {
  readonly groupId: Uint8Array;
  readonly epoch: number;
  /** Epoch of the latest removal of a member or device: sender keys older than this are dead. */
  readonly rekeyEpoch: number;
  readonly name: string;
  /** Sorted by accountKey, at most MAX_GROUP_MEMBERS. */
  readonly members: readonly GroupMember[];
  /**
   * groupChangeHash of the change that produced this roster (32 zero bytes at epoch 0). It makes
   * the roster hash commit to the whole history, so two different changes never lead to the same
   * hash even when they make the same edit (otherwise a follow-up could attach to either fork).
   */
  readonly lastChange: Uint8Array;
}

/** Identifies one device of one member: what the client learns from a sealed sender certificate. */
export interface GroupDeviceRef {
  readonly accountKey: Uint8Array;
  readonly deviceId: Uint8Array;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Binary search in the sorted member list; -(insertion point) - 1 when absent. */
export function memberIndex(roster: GroupRoster, accountKey: Uint8Array): number {
  let lo = 0;
  let hi = roster.members.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareBytes(roster.members[mid]!.accountKey, accountKey);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export function findMember(roster: GroupRoster, accountKey: Uint8Array): GroupMember | undefined {
  const i = memberIndex(roster, accountKey);
  return i >= 0 ? roster.members[i] : undefined;
}

export function findDevice(roster: GroupRoster, ref: GroupDeviceRef): { member: GroupMember; device: GroupDevice } | undefined {
  const member = findMember(roster, ref.accountKey);
  const device = member?.devices.find((d) => equalBytes(d.deviceId, ref.deviceId));
  return member && device ? { member, device } : undefined;
}

export function adminCount(roster: GroupRoster): number {
  let n = 0;
  for (const m of roster.members) if (m.admin) n++;
  return n;
}

/** Checks a device id list: 1..MAX devices, 16 bytes each, strictly ascending (canonical). */
export function checkDeviceIds(ids: readonly Uint8Array[]): void {
  if (ids.length < 1 || ids.length > MAX_GROUP_MEMBER_DEVICES) {
    throw new ProtocolError('FIELD_TOO_LARGE', `a member lists 1..${MAX_GROUP_MEMBER_DEVICES} devices, got ${ids.length}`);
  }
  for (let i = 0; i < ids.length; i++) {
    if (ids[i]!.length !== ID_BYTES) throw new ProtocolError('BAD_FIELD', 'device id must be 16 bytes');
    if (i > 0 && compareBytes(ids[i - 1]!, ids[i]!) >= 0) throw new ProtocolError('BAD_FIELD', 'device ids must be sorted and unique');
  }
}

export function sortDeviceIds(ids: readonly Uint8Array[]): Uint8Array[] {
  return ids.map((d) => d.slice()).sort(compareBytes);
}

/**
 * version(1) || groupId(32) || epoch(u64) || rekeyEpoch(u64) || lastChange(32) || name (u32 len + UTF-8 ≤ 256)
 * || memberCount(u16) || [accountKey(32) || admin(u8) || joinedEpoch(u64) || deviceCount(u8) || [deviceId(16) || addedEpoch(u64)]*]*
 */
export function encodeGroupRoster(roster: GroupRoster): Uint8Array {
  if (roster.members.length > MAX_GROUP_MEMBERS) throw new ProtocolError('GROUP_FULL', 'too many members');
  const w = new Writer(128 + roster.members.length * (KEY_BYTES + 10 + 2 * (ID_BYTES + 8)))
    .u8(GROUP_ROSTER_VERSION)
    .fixed(roster.groupId, GROUP_ID_BYTES)
    .u64(roster.epoch)
    .u64(roster.rekeyEpoch)
    .fixed(roster.lastChange, HASH_BYTES)
    .string(roster.name, MAX_GROUP_NAME_BYTES)
    .u16(roster.members.length);
  for (const m of roster.members) {
    w.fixed(m.accountKey, KEY_BYTES).bool(m.admin).u64(m.joinedEpoch).u8(m.devices.length);
    for (const d of m.devices) w.fixed(d.deviceId, ID_BYTES).u64(d.addedEpoch);
  }
  return w.finish();
}

export function readGroupRoster(r: Reader): GroupRoster {
  expectVersion(r.u8(), GROUP_ROSTER_VERSION, 'group roster');
  const groupId = r.fixed(GROUP_ID_BYTES);
  const epoch = r.u64();
  const rekeyEpoch = r.u64();
  const lastChange = r.fixed(HASH_BYTES);
  const name = r.string(MAX_GROUP_NAME_BYTES);
  const count = r.u16();
  if (count > MAX_GROUP_MEMBERS) throw new ProtocolError('FIELD_TOO_LARGE', `${count} members exceed ${MAX_GROUP_MEMBERS}`);
  if (rekeyEpoch > epoch) throw new ProtocolError('BAD_FIELD', 'rekey epoch after the roster epoch');
  const members: GroupMember[] = [];
  for (let i = 0; i < count; i++) {
    const accountKey = r.fixed(KEY_BYTES);
    const admin = r.bool();
    const joinedEpoch = r.u64();
    const deviceCount = r.u8();
    const devices: GroupDevice[] = [];
    for (let j = 0; j < deviceCount; j++) devices.push({ deviceId: r.fixed(ID_BYTES), addedEpoch: r.u64() });
    checkDeviceIds(devices.map((d) => d.deviceId));
    if (joinedEpoch > epoch || devices.some((d) => d.addedEpoch > epoch || d.addedEpoch < joinedEpoch)) {
      throw new ProtocolError('BAD_FIELD', 'member or device epoch out of range');
    }
    if (i > 0 && compareBytes(members[i - 1]!.accountKey, accountKey) >= 0) {
      throw new ProtocolError('BAD_FIELD', 'members must be sorted and unique');
    }
    members.push({ accountKey, admin, joinedEpoch, devices });
  }
  if (members.length > 0 && adminCount({ groupId, epoch, rekeyEpoch, name, members, lastChange }) === 0) {
    throw new ProtocolError('LAST_ADMIN', 'a group with members has at least one admin');
  }
  return { groupId, epoch, rekeyEpoch, name, members, lastChange };
}

export function decodeGroupRoster(bytes: Uint8Array): GroupRoster {
  if (bytes.length > MAX_GROUP_ROSTER_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'group roster too large');
  const r = new Reader(bytes);
  const roster = readGroupRoster(r);
  r.end();
  return roster;
}

/** SHA-256(label || canonical roster encoding): what every group change's previousHash names. */
export async function groupRosterHash(crypto: CryptoBackend, roster: GroupRoster): Promise<Uint8Array> {
  const encoded = encodeGroupRoster(roster);
  const input = new Uint8Array(LABEL_GROUP_ROSTER_HASH.length + encoded.length);
  input.set(LABEL_GROUP_ROSTER_HASH);
  input.set(encoded, LABEL_GROUP_ROSTER_HASH.length);
  return crypto.sha256(input);
}
