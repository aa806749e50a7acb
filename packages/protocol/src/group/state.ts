/**
 * A member's view of a group (docs/protocol.md §12.4): the current roster plus the last
 * MAX_GROUP_REORG_DEPTH signed changes, so that concurrent changes made on the same epoch
 * resolve the same way on every member whatever order they arrive in.
 *
 * Fork choice: the canonical chain is built greedily from the oldest kept roster; where two
 * changes name the same previous roster, the one with the LOWER change hash wins. A member
 * that already applied the higher one rolls it (and everything built on it) back; the
 * rolled-back changes are returned as `orphaned` so their authors can re-sign them on the new
 * tip (rebaseGroupChange). A losing change that arrives later is refused (STALE_CHANGE).
 */
import { equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import type { AccountKeys } from '../identity.js';
import { Reader, Writer } from '../codec/index.js';
import { expectVersion } from '../codec-helpers.js';
import { KEY_BYTES } from '../constants.js';
import { ProtocolError } from '../errors.js';
import {
  GROUP_ID_BYTES,
  GROUP_STATE_VERSION,
  HASH_BYTES,
  MAX_GROUP_CHANGE_BYTES,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_NAME_BYTES,
  MAX_GROUP_REORG_DEPTH,
  MAX_GROUP_ROSTER_BYTES,
} from './constants.js';
import { applyOps, decodeGroupChange, encodeGroupChange, groupChangeHash, signGroupChange, verifyGroupChangeSignature } from './change.js';
import type { GroupChange, GroupChangeOp } from './change.js';
import { compareBytes, decodeGroupRoster, encodeGroupRoster, findMember, groupRosterHash, sortDeviceIds } from './roster.js';
import type { GroupDeviceRef, GroupMember, GroupRoster } from './roster.js';
import { utf8 } from '@pigeon/crypto';

export interface GroupChainEntry {
  readonly change: GroupChange;
  readonly changeHash: Uint8Array;
  /** The roster after this change, and its hash. */
  readonly roster: GroupRoster;
  readonly hash: Uint8Array;
}

export interface GroupState {
  /** The current roster (tip of the canonical chain) and its hash. */
  readonly roster: GroupRoster;
  readonly hash: Uint8Array;
  /** Oldest roster still kept: changes forking before it can no longer win. */
  readonly base: { readonly roster: GroupRoster; readonly hash: Uint8Array };
  /** Canonical changes after `base`, oldest first, at most MAX_GROUP_REORG_DEPTH. */
  readonly chain: readonly GroupChainEntry[];
}

/** What a change did, tip to tip (after a fork switch too), so the client knows whom to send keys to. */
export interface GroupChangeEffects {
  readonly addedMembers: readonly Uint8Array[];
  readonly removedMembers: readonly Uint8Array[];
  readonly addedDevices: readonly GroupDeviceRef[];
  readonly removedDevices: readonly GroupDeviceRef[];
  /** True when every member must replace its sender key before sending again. */
  readonly rekeyRequired: boolean;
}

export interface GroupChangeResult {
  readonly state: GroupState;
  /** Changes rolled back by a fork switch, oldest first; their authors re-sign them (rebaseGroupChange). */
  readonly orphaned: readonly GroupChange[];
  readonly effects: GroupChangeEffects;
}

export interface GroupMemberInit {
  readonly accountKey: Uint8Array;
  readonly devices: readonly Uint8Array[];
  readonly admin?: boolean;
}

function checkName(name: string): void {
  if (utf8.encode(name).length > MAX_GROUP_NAME_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', `group name above ${MAX_GROUP_NAME_BYTES} bytes`);
}

/**
 * A new group at epoch 0 with a random 32-byte id; the creator is an admin. The creator sends
 * encodeGroupRoster(state.roster) to the initial members over their pairwise sessions.
 */
export async function createGroup(
  crypto: CryptoBackend,
  creator: GroupMemberInit,
  options: { readonly name: string; readonly members?: readonly GroupMemberInit[] },
): Promise<GroupState> {
  checkName(options.name);
  const all = [{ ...creator, admin: true }, ...(options.members ?? [])];
  if (all.length > MAX_GROUP_MEMBERS) throw new ProtocolError('GROUP_FULL', `a group has at most ${MAX_GROUP_MEMBERS} members`);
  const members: GroupMember[] = all
    .map((m) => {
      if (m.accountKey.length !== KEY_BYTES) throw new ProtocolError('BAD_FIELD', 'account key must be 32 bytes');
      return {
        accountKey: m.accountKey.slice(),
        admin: m.admin === true,
        joinedEpoch: 0,
        devices: sortDeviceIds(m.devices).map((deviceId) => ({ deviceId, addedEpoch: 0 })),
      };
    })
    .sort((a, b) => compareBytes(a.accountKey, b.accountKey));
  const roster: GroupRoster = {
    groupId: crypto.randomBytes(GROUP_ID_BYTES),
    epoch: 0,
    rekeyEpoch: 0,
    name: options.name,
    members,
    lastChange: new Uint8Array(HASH_BYTES),
  };
  // Round-trip through the canonical decoder: it checks device lists, duplicates and sizes.
  return groupStateFromRoster(crypto, encodeGroupRoster(roster));
}

/**
 * Starts from a roster received from the member who added us (over an authenticated pairwise
 * session): history before it is not verifiable by a newcomer, exactly as in Signal's groups.
 */
export async function groupStateFromRoster(crypto: CryptoBackend, rosterBytes: Uint8Array): Promise<GroupState> {
  const roster = decodeGroupRoster(rosterBytes);
  const hash = await groupRosterHash(crypto, roster);
  return { roster, hash, base: { roster, hash }, chain: [] };
}

function devicesOf(roster: GroupRoster): Map<string, GroupDeviceRef> {
  const out = new Map<string, GroupDeviceRef>();
  for (const m of roster.members) {
    for (const d of m.devices) out.set(`${m.accountKey.join(',')}/${d.deviceId.join(',')}`, { accountKey: m.accountKey, deviceId: d.deviceId });
  }
  return out;
}

function effectsOf(before: GroupRoster, after: GroupRoster, forkSwitched: boolean): GroupChangeEffects {
  const addedMembers = after.members.filter((m) => !findMember(before, m.accountKey)).map((m) => m.accountKey);
  const removedMembers = before.members.filter((m) => !findMember(after, m.accountKey)).map((m) => m.accountKey);
  const a = devicesOf(before);
  const b = devicesOf(after);
  const addedDevices = [...b].filter(([k]) => !a.has(k)).map(([, v]) => v);
  const removedDevices = [...a].filter(([k]) => !b.has(k)).map(([, v]) => v);
  return { addedMembers, removedMembers, addedDevices, removedDevices, rekeyRequired: removedDevices.length > 0 || forkSwitched };
}

/** Roster and hash at chain position i (0 = base, chain.length = tip). */
function pointAt(state: GroupState, i: number): { roster: GroupRoster; hash: Uint8Array } {
  return i === 0 ? state.base : state.chain[i - 1]!;
}

/**
 * Verifies and applies a signed change (pure: `state` is not modified). Refuses a change for
 * another group (WRONG_GROUP), one already applied (DUPLICATE_CHANGE), one naming a roster
 * this member never had or that lost a fork (STALE_CHANGE), one whose parent has not arrived
 * yet (UNKNOWN_PARENT: keep it and retry after the next change), a bad signature
 * (BAD_SIGNATURE), an author who is not a member (NOT_A_MEMBER) or not an admin (NOT_ADMIN),
 * a change leaving no admin (LAST_ADMIN), above MAX_GROUP_MEMBERS (GROUP_FULL), or otherwise
 * inconsistent (INVALID_CHANGE).
 */
export async function applyGroupChange(crypto: CryptoBackend, state: GroupState, change: GroupChange): Promise<GroupChangeResult> {
  if (!equalBytes(change.groupId, state.roster.groupId)) throw new ProtocolError('WRONG_GROUP', 'change is for another group');
  const changeHash = await groupChangeHash(crypto, change);
  if (state.chain.some((e) => equalBytes(e.changeHash, changeHash))) throw new ProtocolError('DUPLICATE_CHANGE', 'change already applied');
  let parent = -1;
  for (let i = state.chain.length; i >= 0; i--) {
    if (equalBytes(pointAt(state, i).hash, change.previousHash)) {
      parent = i;
      break;
    }
  }
  if (parent < 0) {
    // A parent after the base might still arrive (and win its own fork); anything else is history.
    if (change.epoch - 1 > state.base.roster.epoch) throw new ProtocolError('UNKNOWN_PARENT', 'the roster this change names is unknown here');
    throw new ProtocolError('STALE_CHANGE', 'the change names an old roster');
  }
  const before = pointAt(state, parent);
  if (change.epoch !== before.roster.epoch + 1) throw new ProtocolError('INVALID_CHANGE', 'epoch does not follow the previous roster');
  await verifyGroupChangeSignature(crypto, change);
  const roster = applyOps(before.roster, change.author, change.ops, change.epoch, changeHash);
  const entry: GroupChainEntry = { change, changeHash, roster, hash: await groupRosterHash(crypto, roster) };
  let orphaned: GroupChange[] = [];
  if (parent < state.chain.length) {
    const rival = state.chain[parent]!;
    if (compareBytes(changeHash, rival.changeHash) > 0) throw new ProtocolError('STALE_CHANGE', 'a concurrent change with a lower hash won this epoch');
    orphaned = state.chain.slice(parent).map((e) => e.change);
  }
  let chain = [...state.chain.slice(0, parent), entry];
  let base = state.base;
  if (chain.length > MAX_GROUP_REORG_DEPTH) {
    const drop = chain.length - MAX_GROUP_REORG_DEPTH;
    base = { roster: chain[drop - 1]!.roster, hash: chain[drop - 1]!.hash };
    chain = chain.slice(drop);
  }
  const next: GroupState = { roster, hash: entry.hash, base, chain };
  return { state: next, orphaned, effects: effectsOf(state.roster, roster, orphaned.length > 0) };
}

/** Signs `ops` on the current tip as `author` and applies it locally (the author's own copy). */
export async function createGroupChange(
  crypto: CryptoBackend,
  state: GroupState,
  author: AccountKeys,
  ops: readonly GroupChangeOp[],
): Promise<GroupChangeResult & { readonly change: GroupChange }> {
  const canonical = ops.map((op): GroupChangeOp => {
    if (op.type === 'add-member' || op.type === 'set-devices') return { ...op, devices: sortDeviceIds(op.devices) };
    if (op.type === 'rename') checkName(op.name);
    return op;
  });
  const change = await signGroupChange(crypto, author, {
    groupId: state.roster.groupId,
    epoch: state.roster.epoch + 1,
    previousHash: state.hash,
    ops: canonical,
  });
  return { change, ...(await applyGroupChange(crypto, state, change)) };
}

/** Operations of `orphaned` that still change something on the current tip. */
function stillUseful(roster: GroupRoster, op: GroupChangeOp): boolean {
  switch (op.type) {
    case 'add-member':
      return findMember(roster, op.accountKey) === undefined;
    case 'remove-member':
      return findMember(roster, op.accountKey) !== undefined;
    case 'set-admin': {
      const m = findMember(roster, op.accountKey);
      return m !== undefined && m.admin !== op.admin;
    }
    case 'rename':
      return roster.name !== op.name;
    case 'set-devices': {
      const m = findMember(roster, op.accountKey);
      return m !== undefined && (m.devices.length !== op.devices.length || m.devices.some((d, i) => !equalBytes(d.deviceId, op.devices[i]!)));
    }
  }
}

/**
 * Re-signs an orphaned change of ours on the current tip, keeping only the operations that
 * still change something. Returns null when nothing is left to do. Permission errors propagate
 * (e.g. NOT_ADMIN if the winning change demoted the author).
 */
export async function rebaseGroupChange(
  crypto: CryptoBackend,
  state: GroupState,
  author: AccountKeys,
  orphaned: GroupChange,
): Promise<(GroupChangeResult & { readonly change: GroupChange }) | null> {
  if (!equalBytes(orphaned.author, author.signing.publicKey)) throw new ProtocolError('INVALID_CHANGE', 'only the author re-signs its change');
  const ops = orphaned.ops.filter((op) => stillUseful(state.roster, op));
  return ops.length === 0 ? null : createGroupChange(crypto, state, author, ops);
}

/** Every device of every member, for fan-out (sealed sender per device). */
export function groupDevices(state: GroupState): GroupDeviceRef[] {
  return [...devicesOf(state.roster).values()];
}

// ---- local storage (trusted: changes are replayed without re-verifying signatures) ----

/**
 * version(1) || base roster (u32 len + bytes) || baseHash(32) || count(u8 ≤ 16)
 * || [change (u32 len + bytes) || changeHash(32) || rosterHash(32)]*
 */
export function encodeGroupState(state: GroupState): Uint8Array {
  const w = new Writer(4096)
    .u8(GROUP_STATE_VERSION)
    .bytes(encodeGroupRoster(state.base.roster), MAX_GROUP_ROSTER_BYTES)
    .fixed(state.base.hash, HASH_BYTES)
    .u8(state.chain.length);
  for (const e of state.chain) w.bytes(encodeGroupChange(e.change), MAX_GROUP_CHANGE_BYTES).fixed(e.changeHash, HASH_BYTES).fixed(e.hash, HASH_BYTES);
  return w.finish();
}

export function decodeGroupState(bytes: Uint8Array): GroupState {
  const r = new Reader(bytes);
  expectVersion(r.u8(), GROUP_STATE_VERSION, 'group state');
  const baseRoster = decodeGroupRoster(r.bytes(MAX_GROUP_ROSTER_BYTES));
  const base = { roster: baseRoster, hash: r.fixed(HASH_BYTES) };
  const count = r.u8();
  if (count > MAX_GROUP_REORG_DEPTH) throw new ProtocolError('FIELD_TOO_LARGE', `more than ${MAX_GROUP_REORG_DEPTH} kept changes`);
  const chain: GroupChainEntry[] = [];
  let tip = base;
  for (let i = 0; i < count; i++) {
    const change = decodeGroupChange(r.bytes(MAX_GROUP_CHANGE_BYTES));
    const changeHash = r.fixed(HASH_BYTES);
    const hash = r.fixed(HASH_BYTES);
    if (!equalBytes(change.previousHash, tip.hash) || change.epoch !== tip.roster.epoch + 1 || !equalBytes(change.groupId, baseRoster.groupId)) {
      throw new ProtocolError('BAD_FIELD', 'stored changes do not chain');
    }
    const roster = applyOps(tip.roster, change.author, change.ops, change.epoch, changeHash);
    chain.push({ change, changeHash, roster, hash });
    tip = { roster, hash };
  }
  r.end();
  return { roster: tip.roster, hash: tip.hash, base, chain };
}
