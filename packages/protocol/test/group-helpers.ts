/**
 * Group test harness: members are simulated as plain objects holding, per device, the group
 * state, the device's own sender key and the keys it received. The pairwise sessions are
 * replaced by direct function calls (the client's job in the product).
 */
import { toHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  applyGroupChange,
  createAccountKeys,
  createGroup,
  createGroupChange,
  createGroupSenderKey,
  decodeGroupChange,
  encodeGroupChange,
  encodeGroupRoster,
  groupDecrypt,
  groupEncrypt,
  groupStateFromRoster,
  needsRekey,
  processSenderKeyDistribution,
  senderKeyDistributionOf,
  encodeSenderKeyDistribution,
} from '../src/index.js';
import type { AccountKeys, GroupChange, GroupChangeOp, GroupDeviceRef, GroupState, SenderKeyState } from '../src/index.js';

export interface SimDevice {
  readonly ref: GroupDeviceRef;
  group: GroupState;
  own: SenderKeyState | undefined;
  /** Received keys by distribution id (hex). */
  received: Map<string, SenderKeyState>;
}

export interface SimPerson {
  readonly index: number;
  readonly account: AccountKeys;
  readonly deviceIds: Uint8Array[];
  /** Devices while a member; after removal they move to `former` and keep their state. */
  devices: SimDevice[];
}

export async function makePeople(crypto: CryptoBackend, count: number): Promise<SimPerson[]> {
  const people: SimPerson[] = [];
  for (let i = 0; i < count; i++) {
    const deviceIds = Array.from({ length: 1 + (i % 2) }, () => crypto.randomBytes(16));
    people.push({ index: i, account: await createAccountKeys(crypto), deviceIds, devices: [] });
  }
  return people;
}

export const refsOf = (p: SimPerson): GroupDeviceRef[] => p.deviceIds.map((deviceId) => ({ accountKey: p.account.signing.publicKey, deviceId }));

export const distHex = (message: Uint8Array): string => toHex(message.subarray(1, 17));

/** A group created by people[0] with `initial` as members; every device starts from the creator's roster. */
export async function startGroup(crypto: CryptoBackend, people: SimPerson[], initial: number[]): Promise<GroupState> {
  const [creator] = people;
  const group = await createGroup(
    crypto,
    { accountKey: creator!.account.signing.publicKey, devices: creator!.deviceIds },
    { name: 'test', members: initial.map((i) => ({ accountKey: people[i]!.account.signing.publicKey, devices: people[i]!.deviceIds })) },
  );
  const snapshot = encodeGroupRoster(group.roster);
  for (const i of [0, ...initial]) {
    const p = people[i]!;
    p.devices = await Promise.all(refsOf(p).map(async (ref) => ({ ref, group: await groupStateFromRoster(crypto, snapshot), own: undefined, received: new Map() })));
  }
  return group;
}

/** Author signs `ops`; every current member device applies the signed bytes (decoded again, as on the wire). */
export async function broadcastChange(crypto: CryptoBackend, members: SimPerson[], author: SimPerson, ops: GroupChangeOp[]): Promise<GroupChange> {
  const { change } = await createGroupChange(crypto, author.devices[0]!.group, author.account, ops);
  const wire = encodeGroupChange(change);
  for (const p of members) for (const d of p.devices) d.group = (await applyGroupChange(crypto, d.group, decodeGroupChange(wire))).state;
  return change;
}

/** Gives `to` our current key (pairwise distribution); a key due for replacement is never handed out. */
export function distribute(from: SimDevice, to: SimDevice): void {
  if (!from.own || from === to || needsRekey(from.group, from.ref, from.own)) return;
  const key = processSenderKeyDistribution(to.group, from.ref, encodeSenderKeyDistribution(senderKeyDistributionOf(from.own)));
  to.received.set(toHex(key.distributionId), key);
}

/** Sends from `from`: rekeys first when needsRekey says so (and distributes to every other member device). */
export async function sendGroupMessage(crypto: CryptoBackend, from: SimDevice, everyone: SimDevice[], text: string): Promise<Uint8Array> {
  if (needsRekey(from.group, from.ref, from.own)) {
    from.own = (await createGroupSenderKey(crypto, from.group, from.ref)).senderKey;
    for (const d of everyone) distribute(from, d);
  }
  const { senderKey, message } = await groupEncrypt(crypto, from.group, from.ref, from.own!, new TextEncoder().encode(text));
  from.own = senderKey;
  return message;
}

export async function receiveGroupMessage(crypto: CryptoBackend, to: SimDevice, from: GroupDeviceRef, message: Uint8Array): Promise<string> {
  const key = to.received.get(distHex(message));
  if (!key) throw new Error('no key');
  const r = await groupDecrypt(crypto, to.group, from, key, message);
  to.received.set(distHex(message), r.senderKey);
  return new TextDecoder().decode(r.plaintext);
}
