/**
 * Signed group changes (docs/protocol.md §12.3): an author (admin, or a member acting on
 * itself) signs (group id, previous roster hash, new epoch, operations) with its Ed25519
 * account key. `applyOps` is the pure, synchronous rule book every member runs identically.
 */
import { concatBytes, equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import type { AccountKeys } from '../identity.js';
import { Reader, Writer } from '../codec/index.js';
import { expectVersion } from '../codec-helpers.js';
import { ID_BYTES, KEY_BYTES, SIGNATURE_BYTES } from '../constants.js';
import { ProtocolError } from '../errors.js';
import {
  GROUP_CHANGE_VERSION,
  GROUP_ID_BYTES,
  HASH_BYTES,
  LABEL_GROUP_CHANGE_HASH,
  LABEL_GROUP_CHANGE_SIGNATURE,
  MAX_GROUP_CHANGE_BYTES,
  MAX_GROUP_CHANGE_OPS,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_NAME_BYTES,
} from './constants.js';
import { adminCount, checkDeviceIds, compareBytes, memberIndex } from './roster.js';
import type { GroupDevice, GroupMember, GroupRoster } from './roster.js';

export type GroupChangeOp =
  /** Admin only. `devices` are the new member's device ids (sorted, unique). */
  | { readonly type: 'add-member'; readonly accountKey: Uint8Array; readonly admin: boolean; readonly devices: readonly Uint8Array[] }
  /** Admin, or the member itself (leaving). Forces a rekey. */
  | { readonly type: 'remove-member'; readonly accountKey: Uint8Array }
  /** Admin only. */
  | { readonly type: 'set-admin'; readonly accountKey: Uint8Array; readonly admin: boolean }
  /** Admin only. */
  | { readonly type: 'rename'; readonly name: string }
  /** The member itself only: its current device list. Removing a device forces a rekey. */
  | { readonly type: 'set-devices'; readonly accountKey: Uint8Array; readonly devices: readonly Uint8Array[] };

export interface GroupChange {
  readonly groupId: Uint8Array;
  /** The epoch this change creates: previous epoch + 1. */
  readonly epoch: number;
  /** groupRosterHash of the roster this change applies to. */
  readonly previousHash: Uint8Array;
  /** Account key of the author; signs the change. */
  readonly author: Uint8Array;
  readonly ops: readonly GroupChangeOp[];
  readonly signature: Uint8Array;
}

const OP_CODE = { 'add-member': 1, 'remove-member': 2, 'set-admin': 3, rename: 4, 'set-devices': 5 } as const;

function writeOp(w: Writer, op: GroupChangeOp): void {
  const code = OP_CODE[op.type];
  if (code === undefined) throw new ProtocolError('UNKNOWN_TYPE', 'unknown group change operation');
  w.u8(code);
  switch (op.type) {
    case 'add-member':
      w.fixed(op.accountKey, KEY_BYTES).bool(op.admin).u8(op.devices.length);
      for (const d of op.devices) w.fixed(d, ID_BYTES);
      return;
    case 'remove-member':
      w.fixed(op.accountKey, KEY_BYTES);
      return;
    case 'set-admin':
      w.fixed(op.accountKey, KEY_BYTES).bool(op.admin);
      return;
    case 'rename':
      w.string(op.name, MAX_GROUP_NAME_BYTES);
      return;
    case 'set-devices':
      w.fixed(op.accountKey, KEY_BYTES).u8(op.devices.length);
      for (const d of op.devices) w.fixed(d, ID_BYTES);
      return;
  }
}

function readDeviceIds(r: Reader): Uint8Array[] {
  const count = r.u8();
  const ids: Uint8Array[] = [];
  for (let i = 0; i < count; i++) ids.push(r.fixed(ID_BYTES));
  checkDeviceIds(ids);
  return ids;
}

function readOp(r: Reader): GroupChangeOp {
  const code = r.u8();
  switch (code) {
    case OP_CODE['add-member']: {
      const accountKey = r.fixed(KEY_BYTES);
      const admin = r.bool();
      return { type: 'add-member', accountKey, admin, devices: readDeviceIds(r) };
    }
    case OP_CODE['remove-member']:
      return { type: 'remove-member', accountKey: r.fixed(KEY_BYTES) };
    case OP_CODE['set-admin']:
      return { type: 'set-admin', accountKey: r.fixed(KEY_BYTES), admin: r.bool() };
    case OP_CODE.rename:
      return { type: 'rename', name: r.string(MAX_GROUP_NAME_BYTES) };
    case OP_CODE['set-devices']:
      return { type: 'set-devices', accountKey: r.fixed(KEY_BYTES), devices: readDeviceIds(r) };
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `unknown group change operation ${code}`);
  }
}

function writeUnsigned(w: Writer, change: Omit<GroupChange, 'signature'>): Writer {
  if (change.ops.length < 1 || change.ops.length > MAX_GROUP_CHANGE_OPS) {
    throw new ProtocolError('FIELD_TOO_LARGE', `a change has 1..${MAX_GROUP_CHANGE_OPS} operations`);
  }
  w.u8(GROUP_CHANGE_VERSION)
    .fixed(change.groupId, GROUP_ID_BYTES)
    .u64(change.epoch)
    .fixed(change.previousHash, HASH_BYTES)
    .fixed(change.author, KEY_BYTES)
    .u16(change.ops.length);
  for (const op of change.ops) writeOp(w, op);
  return w;
}

/** version(1) || groupId(32) || epoch(u64) || previousHash(32) || author(32) || opCount(u16) || ops || signature(64). */
export function encodeGroupChange(change: GroupChange): Uint8Array {
  return writeUnsigned(new Writer(256), change).fixed(change.signature, SIGNATURE_BYTES).finish();
}

export function decodeGroupChange(bytes: Uint8Array): GroupChange {
  if (bytes.length > MAX_GROUP_CHANGE_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'group change too large');
  const r = new Reader(bytes);
  expectVersion(r.u8(), GROUP_CHANGE_VERSION, 'group change');
  const groupId = r.fixed(GROUP_ID_BYTES);
  const epoch = r.u64();
  const previousHash = r.fixed(HASH_BYTES);
  const author = r.fixed(KEY_BYTES);
  const count = r.u16();
  if (count < 1 || count > MAX_GROUP_CHANGE_OPS) throw new ProtocolError('FIELD_TOO_LARGE', `a change has 1..${MAX_GROUP_CHANGE_OPS} operations`);
  const ops: GroupChangeOp[] = [];
  for (let i = 0; i < count; i++) ops.push(readOp(r));
  const signature = r.fixed(SIGNATURE_BYTES);
  r.end();
  if (epoch < 1) throw new ProtocolError('BAD_FIELD', 'a change creates epoch 1 or later');
  return { groupId, epoch, previousHash, author, ops, signature };
}

function signedBytes(change: Omit<GroupChange, 'signature'>): Uint8Array {
  return concatBytes(LABEL_GROUP_CHANGE_SIGNATURE, writeUnsigned(new Writer(256), change).finish());
}

export async function signGroupChange(
  crypto: CryptoBackend,
  author: AccountKeys,
  unsigned: Omit<GroupChange, 'signature' | 'author'>,
): Promise<GroupChange> {
  const body = { ...unsigned, author: author.signing.publicKey.slice() };
  const signature = await crypto.ed25519Sign(author.signing.secretKey, signedBytes(body));
  return { ...body, signature };
}

/** Throws BAD_SIGNATURE unless the author's account key signed exactly this change. */
export async function verifyGroupChangeSignature(crypto: CryptoBackend, change: GroupChange): Promise<void> {
  let ok = false;
  try {
    ok = await crypto.ed25519Verify(change.author, signedBytes(change), change.signature);
  } catch (cause) {
    throw new ProtocolError('BAD_SIGNATURE', 'group change is malformed', { cause });
  }
  if (!ok) throw new ProtocolError('BAD_SIGNATURE', 'group change signature does not verify');
}

/** SHA-256(label || full encoding): names a change; the lower hash wins a fork (§12.4). */
export function groupChangeHash(crypto: CryptoBackend, change: GroupChange): Promise<Uint8Array> {
  return crypto.sha256(concatBytes(LABEL_GROUP_CHANGE_HASH, encodeGroupChange(change)));
}

function devicesAt(ids: readonly Uint8Array[], epoch: number, previous: readonly GroupDevice[]): GroupDevice[] {
  return ids.map((deviceId) => previous.find((d) => equalBytes(d.deviceId, deviceId)) ?? { deviceId: deviceId.slice(), addedEpoch: epoch });
}

/**
 * Applies the operations of a change whose signature was already checked, against the roster
 * it names. Permissions are judged on the roster BEFORE the change (an admin demoting itself
 * in the same change keeps its rights for that change). Pure: returns a new roster.
 */
export function applyOps(before: GroupRoster, author: Uint8Array, ops: readonly GroupChangeOp[], epoch: number, changeHash: Uint8Array): GroupRoster {
  const authorIndex = memberIndex(before, author);
  if (authorIndex < 0) throw new ProtocolError('NOT_A_MEMBER', 'the author is not a member of the group');
  const authorIsAdmin = before.members[authorIndex]!.admin;
  const requireAdmin = (): void => {
    if (!authorIsAdmin) throw new ProtocolError('NOT_ADMIN', 'only an admin may make this change');
  };
  const members: GroupMember[] = before.members.slice();
  let name = before.name;
  let removal = false;
  const at = (accountKey: Uint8Array): number => memberIndex({ ...before, members }, accountKey);
  const existing = (accountKey: Uint8Array): number => {
    const i = at(accountKey);
    if (i < 0) throw new ProtocolError('INVALID_CHANGE', 'the change names someone who is not a member');
    return i;
  };
  for (const op of ops) {
    switch (op.type) {
      case 'add-member': {
        requireAdmin();
        if (op.accountKey.length !== KEY_BYTES) throw new ProtocolError('BAD_FIELD', 'account key must be 32 bytes');
        checkDeviceIds(op.devices);
        const i = at(op.accountKey);
        if (i >= 0) throw new ProtocolError('INVALID_CHANGE', 'already a member');
        if (members.length >= MAX_GROUP_MEMBERS) throw new ProtocolError('GROUP_FULL', `a group has at most ${MAX_GROUP_MEMBERS} members`);
        members.splice(-i - 1, 0, { accountKey: op.accountKey.slice(), admin: op.admin, joinedEpoch: epoch, devices: devicesAt(op.devices, epoch, []) });
        break;
      }
      case 'remove-member': {
        if (!equalBytes(op.accountKey, author)) requireAdmin();
        members.splice(existing(op.accountKey), 1);
        removal = true;
        break;
      }
      case 'set-admin': {
        requireAdmin();
        const i = existing(op.accountKey);
        members[i] = { ...members[i]!, admin: op.admin };
        break;
      }
      case 'rename':
        requireAdmin();
        name = op.name;
        break;
      case 'set-devices': {
        if (!equalBytes(op.accountKey, author)) throw new ProtocolError('INVALID_CHANGE', 'only a member itself sets its devices');
        checkDeviceIds(op.devices);
        const i = existing(op.accountKey);
        const member = members[i]!;
        const devices = devicesAt(op.devices, epoch, member.devices);
        if (member.devices.some((d) => !op.devices.some((id) => equalBytes(id, d.deviceId)))) removal = true;
        members[i] = { ...member, devices };
        break;
      }
      default:
        throw new ProtocolError('UNKNOWN_TYPE', 'unknown group change operation');
    }
  }
  const roster: GroupRoster = { groupId: before.groupId, epoch, rekeyEpoch: removal ? epoch : before.rekeyEpoch, name, members, lastChange: changeHash };
  if (members.length > 0 && adminCount(roster) === 0) throw new ProtocolError('LAST_ADMIN', 'the last admin cannot be removed or demoted');
  return roster;
}

export { compareBytes };
