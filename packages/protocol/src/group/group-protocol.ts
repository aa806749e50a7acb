/**
 * The group messaging contract the client codes against (docs/protocol.md §12.1), and its
 * Sender Keys implementation. The interface speaks only in opaque bytes for anything that
 * travels (changes, distributions, messages), so an MLS implementation (RFC 9420) can stand
 * behind it later: its "distribution" output would carry Welcome messages, its change bytes
 * MLS Commits, and its per-sender keys would be empty.
 *
 * The epoch binding (§12.6) lives here: a sender key carries the group epoch (and roster hash)
 * it was created in; no key older than `requiredSenderKeyEpoch` is used to send or accepted.
 */
import { equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { deviceIdOf } from '../identity.js';
import type { AccountKeys, DeviceCertificate } from '../identity.js';
import { ProtocolError } from '../errors.js';
import { SENDER_KEYS_PROTOCOL_ID, SENDER_KEY_REKEY_ITERATION } from './constants.js';
import { decodeGroupChange, encodeGroupChange } from './change.js';
import type { GroupChange, GroupChangeOp } from './change.js';
import { encodeGroupRoster, findDevice } from './roster.js';
import type { GroupDeviceRef } from './roster.js';
import {
  applyGroupChange,
  createGroup,
  createGroupChange,
  decodeGroupState,
  encodeGroupState,
  groupStateFromRoster,
  rebaseGroupChange,
} from './state.js';
import type { GroupChangeEffects, GroupMemberInit, GroupState } from './state.js';
import {
  createSenderKey,
  decodeSenderKeyDistribution,
  decodeSenderKeyState,
  encodeSenderKeyDistribution,
  encodeSenderKeyState,
  senderKeyDecrypt,
  senderKeyDistributionOf,
  senderKeyEncrypt,
  senderKeyFromDistribution,
} from './sender-key.js';
import type { SenderKeyState } from './sender-key.js';

/** The sender of a group message or distribution, as authenticated by sealed sender + the pairwise session. */
export async function groupDeviceRefOf(crypto: CryptoBackend, certificate: DeviceCertificate): Promise<GroupDeviceRef> {
  return { accountKey: certificate.accountKey, deviceId: await deviceIdOf(crypto, certificate.deviceSigningKey) };
}

/**
 * The oldest epoch a sender key of `device` may have been created in: the latest of the
 * group's last removal (rekeyEpoch), the member's join and the device's addition. Throws
 * NOT_A_MEMBER when the device is not (or no longer) in the group.
 */
export function requiredSenderKeyEpoch(group: GroupState, device: GroupDeviceRef): number {
  const found = findDevice(group.roster, device);
  if (!found) throw new ProtocolError('NOT_A_MEMBER', 'device is not a member of the group');
  return Math.max(group.roster.rekeyEpoch, found.member.joinedEpoch, found.device.addedEpoch);
}

/** Where our own key was created still on the canonical chain? (false after a fork switch orphaned it) */
function onCanonicalChain(group: GroupState, key: SenderKeyState): boolean {
  if (key.epoch < group.base.roster.epoch) return true; // older than any fork we can still switch
  if (key.epoch === group.base.roster.epoch) return equalBytes(key.rosterHash, group.base.hash);
  const entry = group.chain.find((e) => e.roster.epoch === key.epoch);
  return entry !== undefined && equalBytes(entry.hash, key.rosterHash);
}

/**
 * True when `self` must create (and distribute) a new sender key before sending: no key yet,
 * a key of another group, one older than requiredSenderKeyEpoch (someone was removed, or we
 * rejoined), one created on a roster a fork switch threw away, or a nearly exhausted chain.
 */
export function needsRekey(group: GroupState, self: GroupDeviceRef, own: SenderKeyState | undefined): boolean {
  const required = requiredSenderKeyEpoch(group, self);
  if (own === undefined || own.signingSecretKey === null) return true;
  if (!equalBytes(own.groupId, group.roster.groupId)) return true;
  return own.epoch < required || !onCanonicalChain(group, own) || own.iteration >= SENDER_KEY_REKEY_ITERATION;
}

/** A new sending key for `self` at the current epoch, and the distribution bytes for every other member device. */
export async function createGroupSenderKey(
  crypto: CryptoBackend,
  group: GroupState,
  self: GroupDeviceRef,
): Promise<{ senderKey: SenderKeyState; distribution: Uint8Array }> {
  requiredSenderKeyEpoch(group, self);
  const senderKey = await createSenderKey(crypto, { groupId: group.roster.groupId, epoch: group.roster.epoch, rosterHash: group.hash });
  return { senderKey, distribution: encodeSenderKeyDistribution(senderKeyDistributionOf(senderKey)) };
}

/** Encrypts once for the group. Refuses to send with a key needsRekey would replace (STALE_SENDER_KEY). */
export async function groupEncrypt(
  crypto: CryptoBackend,
  group: GroupState,
  self: GroupDeviceRef,
  own: SenderKeyState,
  plaintext: Uint8Array,
): Promise<{ senderKey: SenderKeyState; message: Uint8Array }> {
  if (needsRekey(group, self, own)) throw new ProtocolError('STALE_SENDER_KEY', 'create and distribute a new sender key first');
  const { state, message } = await senderKeyEncrypt(crypto, own, plaintext);
  return { senderKey: state, message };
}

function checkReceivedKey(group: GroupState, sender: GroupDeviceRef, key: { groupId: Uint8Array; epoch: number }): void {
  if (!equalBytes(key.groupId, group.roster.groupId)) throw new ProtocolError('WRONG_GROUP', 'sender key is for another group');
  if (key.epoch < requiredSenderKeyEpoch(group, sender)) throw new ProtocolError('STALE_SENDER_KEY', 'sender key older than the last removal or the sender joining');
}

/**
 * Accepts a distribution that arrived from `sender` over its pairwise session. Throws
 * WRONG_GROUP, NOT_A_MEMBER (sender not a member device in our roster) or STALE_SENDER_KEY.
 * A key from an epoch AHEAD of ours is accepted: its sender saw a change we have not yet.
 */
export function processSenderKeyDistribution(group: GroupState, sender: GroupDeviceRef, bytes: Uint8Array): SenderKeyState {
  const d = decodeSenderKeyDistribution(bytes);
  checkReceivedKey(group, sender, d);
  return senderKeyFromDistribution(d);
}

/**
 * Decrypts a group message from `sender` with the key we hold for it. Besides
 * senderKeyDecrypt's codes: NOT_A_MEMBER if the sender left or was removed, STALE_SENDER_KEY
 * if its key predates a removal (the receiver's copy is then useless: drop it).
 */
export async function groupDecrypt(
  crypto: CryptoBackend,
  group: GroupState,
  sender: GroupDeviceRef,
  key: SenderKeyState,
  message: Uint8Array,
): Promise<{ senderKey: SenderKeyState; plaintext: Uint8Array }> {
  checkReceivedKey(group, sender, key);
  const { state, plaintext } = await senderKeyDecrypt(crypto, key, message);
  return { senderKey: state, plaintext };
}

/** Distribution id of a group message, so the client can find the receiving key (null for garbage). */
export function groupMessageDistributionId(message: Uint8Array): Uint8Array | null {
  return message.length >= 17 ? message.slice(1, 17) : null;
}

// ---- the replaceable interface ----

export interface GroupChangeOutcome<Group> {
  readonly group: Group;
  /** Encoded changes rolled back by a fork switch (ours must be rebased). */
  readonly orphaned: readonly Uint8Array[];
  readonly effects: GroupChangeEffects;
}

/**
 * What the client needs from a group protocol. `Group` is the shared state, `SendKey` our own
 * per-device sending state, `ReceiveKey` what we hold per remote sender device. Everything that
 * leaves the device is bytes; all functions are pure and return new values.
 */
export interface GroupProtocol<Group, SendKey, ReceiveKey> {
  readonly id: string;
  createGroup(crypto: CryptoBackend, creator: GroupMemberInit, options: { name: string; members?: readonly GroupMemberInit[] }): Promise<Group>;
  /** Bytes a newcomer needs to join (sent to it over pairwise sessions together with our distribution). */
  exportForNewMember(group: Group): Uint8Array;
  joinGroup(crypto: CryptoBackend, snapshot: Uint8Array): Promise<Group>;
  proposeChange(crypto: CryptoBackend, group: Group, author: AccountKeys, ops: readonly GroupChangeOp[]): Promise<GroupChangeOutcome<Group> & { change: Uint8Array }>;
  applyChange(crypto: CryptoBackend, group: Group, change: Uint8Array): Promise<GroupChangeOutcome<Group>>;
  rebaseChange(crypto: CryptoBackend, group: Group, author: AccountKeys, orphaned: Uint8Array): Promise<(GroupChangeOutcome<Group> & { change: Uint8Array }) | null>;
  needsRekey(group: Group, self: GroupDeviceRef, own: SendKey | undefined): boolean;
  createSendKey(crypto: CryptoBackend, group: Group, self: GroupDeviceRef): Promise<{ sendKey: SendKey; distribution: Uint8Array }>;
  /** Our current key as a distribution, for a member or device added since we made it. */
  distributionOf(own: SendKey): Uint8Array;
  processDistribution(crypto: CryptoBackend, group: Group, sender: GroupDeviceRef, distribution: Uint8Array): Promise<ReceiveKey>;
  encrypt(crypto: CryptoBackend, group: Group, self: GroupDeviceRef, own: SendKey, plaintext: Uint8Array): Promise<{ sendKey: SendKey; message: Uint8Array }>;
  decrypt(crypto: CryptoBackend, group: Group, sender: GroupDeviceRef, key: ReceiveKey, message: Uint8Array): Promise<{ key: ReceiveKey; plaintext: Uint8Array }>;
  encodeGroup(group: Group): Uint8Array;
  decodeGroup(bytes: Uint8Array): Group;
  encodeSendKey(key: SendKey): Uint8Array;
  decodeSendKey(bytes: Uint8Array): SendKey;
  encodeReceiveKey(key: ReceiveKey): Uint8Array;
  decodeReceiveKey(bytes: Uint8Array): ReceiveKey;
}

function outcome(r: { state: GroupState; orphaned: readonly GroupChange[]; effects: GroupChangeEffects }): GroupChangeOutcome<GroupState> {
  return { group: r.state, orphaned: r.orphaned.map(encodeGroupChange), effects: r.effects };
}

/** Sender Keys over pairwise sessions: the v1 implementation of GroupProtocol. */
export const senderKeysGroupProtocol: GroupProtocol<GroupState, SenderKeyState, SenderKeyState> = {
  id: SENDER_KEYS_PROTOCOL_ID,
  createGroup: (crypto, creator, options) => createGroup(crypto, creator, options),
  exportForNewMember: (group) => encodeGroupRoster(group.roster),
  joinGroup: (crypto, snapshot) => groupStateFromRoster(crypto, snapshot),
  async proposeChange(crypto, group, author, ops) {
    const r = await createGroupChange(crypto, group, author, ops);
    return { ...outcome(r), change: encodeGroupChange(r.change) };
  },
  async applyChange(crypto, group, change) {
    return outcome(await applyGroupChange(crypto, group, decodeGroupChange(change)));
  },
  async rebaseChange(crypto, group, author, orphaned) {
    const r = await rebaseGroupChange(crypto, group, author, decodeGroupChange(orphaned));
    return r === null ? null : { ...outcome(r), change: encodeGroupChange(r.change) };
  },
  needsRekey,
  async createSendKey(crypto, group, self) {
    const { senderKey, distribution } = await createGroupSenderKey(crypto, group, self);
    return { sendKey: senderKey, distribution };
  },
  distributionOf: (own) => {
    if (own.signingSecretKey === null) throw new ProtocolError('NO_SESSION', 'only our own sender key is distributed');
    return encodeSenderKeyDistribution(senderKeyDistributionOf(own));
  },
  processDistribution: async (_crypto, group, sender, distribution) => processSenderKeyDistribution(group, sender, distribution),
  async encrypt(crypto, group, self, own, plaintext) {
    const { senderKey, message } = await groupEncrypt(crypto, group, self, own, plaintext);
    return { sendKey: senderKey, message };
  },
  async decrypt(crypto, group, sender, key, message) {
    const { senderKey, plaintext } = await groupDecrypt(crypto, group, sender, key, message);
    return { key: senderKey, plaintext };
  },
  encodeGroup: encodeGroupState,
  decodeGroup: decodeGroupState,
  encodeSendKey: encodeSenderKeyState,
  decodeSendKey: decodeSenderKeyState,
  encodeReceiveKey: encodeSenderKeyState,
  decodeReceiveKey: decodeSenderKeyState,
};
