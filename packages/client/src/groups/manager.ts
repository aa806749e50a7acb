/**
 * Groups in the SDK (docs/protocol.md §12, "how the client SDK uses this" in
 * packages/protocol/CONTEXT.md): `client.groups`. Everything travels as content type `group`
 * over the pairwise sessions (sealed), so the relay never learns membership.
 *
 * - Membership lives in the protocol's GroupState: signed changes chained by hash, verified by
 *   every member; concurrent changes resolve by "lower change hash wins" and our orphaned
 *   changes are re-signed on the winner (rebase) before anything else is sent.
 * - Sending: one Sender-Key ciphertext per message, sealed to every member device (our own other
 *   devices too). Our current distribution rides along with each message, so a member never
 *   waits for a key that was sent separately and a newcomer gets it with the next message.
 * - A removal makes `needsRekey` true for every member: the next message goes out under a fresh
 *   key (new distribution id) that the removed member never receives.
 * - Payloads that arrive before what they depend on (the welcome, a parent change, the change
 *   that added their sender) are held and retried after each group update (MAX_HELD_PER_GROUP).
 * - Receipts (§12.8, receipts.ts): members' devices tell the author pairwise; the author's copy
 *   moves queued -> sent -> delivered -> read when the whole audience is that far.
 * - A copy under a sender key the receiver cannot use (stale after a removal it saw first, or
 *   missing) is asked for again by distribution id + iteration and re-sent under our current
 *   key; the request waits (held) until we reached the requester's epoch (§12.9, resend.ts).
 */
import { equalBytes, fromHex, toHex } from '@pigeon/crypto';
import {
  ProtocolError,
  accountIdOf,
  applyGroupChange,
  createGroup,
  createGroupChange,
  createGroupSenderKey,
  decodeDeviceCertificate,
  decodeGroupChange,
  decodeGroupRoster,
  encodeDeviceCertificate,
  encodeGroupChange,
  decodeGroupState,
  decodeSenderKeyState,
  encodeGroupRoster,
  encodeGroupState,
  encodeSenderKeyState,
  findDevice,
  findMember,
  formatPigeonId,
  groupDecrypt,
  groupDeviceRefOf,
  groupEncrypt,
  groupMessageDistributionId,
  groupStateFromRoster,
  needsRekey,
  processSenderKeyDistribution,
  rebaseGroupChange,
  senderKeysGroupProtocol,
  decodeSenderKeyDistribution,
  MAX_GROUP_MEMBER_DEVICES,
} from '@pigeon/protocol';
import type { DeviceCertificate, GroupChange, GroupChangeOp, GroupChangeResult, GroupDeviceRef, GroupRoster, GroupState, SenderKeyState } from '@pigeon/protocol';
import { captionFromText, describeAttachment, infoOf, loadReference, storeReference } from '../attachments/messages.js';
import { uploadBlobForMessage, type SendAttachmentBlobOptions, type Uploader } from '../attachments/client-transfer.js';
import type { BlobLike } from '../attachments/memory-transfer.js';
import type { AttachmentInfo, AttachmentReference } from '../attachments/reference.js';
import { decodeContent, encodeContent } from '../content.js';
import type { Content } from '../content.js';
import { Emitter } from '../emitter.js';
import { ClientError } from '../errors.js';
import type { ClientInternals, ExtensionInput, ExtensionResult, SendTarget } from '../internals.js';
import { CONTENT_ID_BYTES, MAX_NAME_BYTES, MAX_RECEIPT_IDS, MAX_TEXT_BYTES } from '../limits.js';
import { utf8 } from '@pigeon/crypto';
import { decodeGroupLink, encodeGroupLink } from './invite-link.js';
import { GROUP_INVITE_SECRET_BYTES, MAX_CARDS_PER_PAYLOAD, decodeGroupPayload, encodeGroupPayload } from './payload.js';
import { decodeWelcomeBundle, downloadWelcomeBundle, encodeWelcomeBundle, uploadWelcomeBundle, welcomeByBlob } from './welcome-bundle.js';
import type { GroupPayload, MemberCard } from './payload.js';
import { GROUP_STATE_RANK, audienceOf, audienceState } from './receipts.js';
import { MAX_ASKED_REMEMBERED, MAX_RESENDS_PER_DEVICE, copyRefOf } from './resend.js';
import type { GroupMessageRow, GroupRow, GroupStore } from './store.js';
import type { Group, GroupEvent, GroupMemberInfo, GroupMessage, GroupReceipt } from './types.js';

/** Payloads kept per group while they wait for what they depend on; more are dropped. */
export const MAX_HELD_PER_GROUP = 1_000;
/** Inline welcomes an admin sends one device of a group on request (its blob failed, §12.11). */
export const MAX_INLINE_WELCOMES_PER_DEVICE = 3;
/** A held payload older than this is dropped on the next retry (its dependency is not coming). */
export const HELD_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Our latest messages of a group looked at again when members leave (older ones keep their state). */
export const RECOMPUTE_AFTER_REMOVAL = 200;
/**
 * State-table key set when our delivery token was rotated (block/report, message-life): from
 * then on we send our own card to members added to our groups, since the card an admin hands
 * them may predate the rotation (§12.10).
 */
export const CARD_CHANGED_KEY = 'groups.card_changed_at';

/** The contact operations a group invite link needs (the client's public ones). */
export interface ContactLinks {
  createInvite(): Promise<string>;
  acceptInvite(link: string): Promise<{ id: string }>;
  flush(): Promise<void>;
}

interface GroupEvents extends Record<string, unknown> {
  message: GroupMessage;
  group: GroupEvent;
  status: GroupMessage;
}

/** A held payload may start something that lets it proceed later (`after`, run once after the hold is committed). */
type Outcome = { readonly action: 'hold'; readonly after?: () => Promise<void> } | { readonly action: 'drop'; readonly reason: string } | ({ readonly action: 'apply' } & ExtensionResult);

const HOLD: Outcome = { action: 'hold' };
const drop = (reason: string): Outcome => ({ action: 'drop', reason });

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
}

/** Protocol refusals of our own change, as the client's error model. */
function asGroupError(err: unknown): unknown {
  if (!(err instanceof ProtocolError)) return err;
  switch (err.code) {
    case 'NOT_ADMIN':
    case 'LAST_ADMIN':
    case 'NOT_A_MEMBER':
      return new ClientError('GROUP_PERMISSION', `the group refuses this change: ${err.code}`, { cause: err });
    case 'GROUP_FULL':
      return new ClientError('GROUP_FULL', 'the group is full', { cause: err });
    case 'INVALID_CHANGE':
    case 'FIELD_TOO_LARGE':
      return new ClientError('BAD_ARGUMENT', `invalid group change: ${err.code}`, { cause: err });
    default:
      return err;
  }
}

function checkGroupName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new ClientError('BAD_ARGUMENT', 'group name must not be empty');
  if (utf8.encode(trimmed).length > MAX_NAME_BYTES) throw new ClientError('BAD_ARGUMENT', `group name is longer than ${MAX_NAME_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new ClientError('BAD_ARGUMENT', 'group name contains control characters');
  return trimmed;
}

export class GroupManager {
  readonly #c: ClientInternals;
  readonly #store: GroupStore;
  readonly #events = new Emitter<GroupEvents>();
  readonly #accountIds = new Map<string, string>();
  readonly #contacts: ContactLinks;
  /** Copies we asked a sender for again (`device/distribution/iteration`): asked once. */
  readonly #asked = new Set<string>();
  /** Copies re-sent per `message/requesting device` (at most MAX_RESENDS_PER_DEVICE). */
  readonly #resent = new Map<string, number>();
  /** Inline welcomes we asked an admin device for (`group/epoch/device`): asked once. */
  readonly #askedWelcome = new Set<string>();
  /** Inline welcomes sent on request per `group/requesting device` (at most MAX_INLINE_WELCOMES_PER_DEVICE). */
  readonly #inlineWelcomes = new Map<string, number>();

  /** Our relay and a blob-create signer, for attachment uploads (null: this client cannot upload). */
  readonly #uploader: (() => Uploader) | null;

  constructor(internals: ClientInternals, store: GroupStore, contacts: ContactLinks, uploader: (() => Uploader) | null = null) {
    this.#c = internals;
    this.#store = store;
    this.#contacts = contacts;
    this.#uploader = uploader;
    internals.onSettled((id, accepted) => this.settled(id, accepted));
  }

  /**
   * 'message': a member's message arrived. 'group': created / joined / changed / removed.
   * 'status': one of our messages moved (sent, failed, delivered, read; see GroupMessage.state).
   */
  on(event: 'message', fn: (m: GroupMessage) => void): () => void;
  on(event: 'group', fn: (e: GroupEvent) => void): () => void;
  on(event: 'status', fn: (m: GroupMessage) => void): () => void;
  on(event: 'message' | 'group' | 'status', fn: (value: never) => void): () => void {
    return this.#events.on(event, fn as (value: unknown) => void);
  }

  // ---- reading --------------------------------------------------------------------------------

  list(): Group[] {
    this.#c.keys();
    return this.#store.listGroups().map((r) => this.toGroup(r));
  }

  /** A group by hex id (or a unique prefix of at least 8 hex digits) or by name (case-insensitive). */
  find(nameOrId: string): Group {
    return this.toGroup(this.findRow(nameOrId));
  }

  messages(group: string, options: { limit?: number } = {}): GroupMessage[] {
    const row = this.findRow(group);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
      throw new ClientError('BAD_ARGUMENT', 'limit must be a non-negative integer');
    }
    return this.#store.listMessages(row.id, options.limit).map((m) => this.toMessage(m));
  }

  unread(): GroupMessage[] {
    this.#c.keys();
    return this.#store.listUnread().map((m) => this.toMessage(m));
  }

  /**
   * Marks group messages read (at once: unread() no longer lists them) and, while read receipts
   * are on, queues ONE read receipt per author (split at MAX_RECEIPT_IDS; it may name messages
   * of several groups) for the ones that were unread. Resolves when the receipts are in the
   * outbox; a receipt that cannot be sealed is logged (group.receipt_failed), never thrown.
   */
  markRead(ids: readonly string[]): Promise<void> {
    const k = this.#c.keys();
    const byAuthor = new Map<string, Uint8Array[]>();
    for (const id of new Set(ids)) {
      const m = this.#store.getMessage(id);
      if (!m || m.direction !== 'in' || m.read || m.senderId === k.profile.accountId) continue;
      const list = byAuthor.get(m.senderId) ?? [];
      list.push(fromHex(m.id));
      byAuthor.set(m.senderId, list);
    }
    this.#c.store.transaction(() => this.#store.markRead(ids));
    if (byAuthor.size === 0 || !this.#c.receiptSettings().readReceipts) return Promise.resolve();
    return this.#c.serial(async () => {
      for (const [author, list] of byAuthor) {
        for (let i = 0; i < list.length; i += MAX_RECEIPT_IDS) await this.sendReceipt(author, list.slice(i, i + MAX_RECEIPT_IDS), true);
      }
    });
  }

  /**
   * What each member of the message's audience said about one of our group messages (the
   * members it was sent to who are still members), in roster order. BAD_ARGUMENT for a message
   * we did not send; UNKNOWN_MESSAGE when there is none.
   */
  receipts(messageId: string): GroupReceipt[] {
    const k = this.#c.keys();
    const m = this.#store.getMessage(messageId.trim().toLowerCase());
    if (!m) throw new ClientError('UNKNOWN_MESSAGE', 'no such group message');
    if (m.direction !== 'out') throw new ClientError('BAD_ARGUMENT', 'receipts are kept for the messages we sent');
    const row = this.#store.getGroup(m.groupId);
    if (!row) return [];
    const roster = decodeGroupState(row.state).roster;
    const byMember = new Map(this.#store.listReceipts(m.id).map((r) => [r.memberId, r]));
    return audienceOf(roster, k.accountKey, this.sentEpochOf(m.id)).map((member) => {
      const id = this.accountIdSync(member.accountKey);
      const r = byMember.get(id);
      return { memberId: id, name: this.#c.store.getContact(id)?.name ?? formatPigeonId(fromHex(id)), delivered: r !== undefined, read: r?.state === 'read', at: r?.at ?? null };
    });
  }

  /** The roster epoch of our first copy of a message (null: sent from another of our devices). */
  private sentEpochOf(messageId: string): number | null {
    return this.#store.listSent(messageId)[0]?.epoch ?? null;
  }

  /** Every envelope of one of our group messages settled at the relay: queued -> sent | failed. */
  private settled(messageId: string, accepted: boolean): void {
    const m = this.#store.getMessage(messageId);
    if (!m || m.direction !== 'out' || m.state !== 'queued') return;
    const state = accepted ? 'sent' : 'failed';
    this.#c.store.transaction(() => this.#store.setMessageState(m.id, state));
    this.#events.emit('status', this.toMessage({ ...m, state }));
  }

  /** Lock-free. A delivery (read = false) or read receipt for `ids` to every listed device of their author. */
  private async sendReceipt(authorId: string, ids: Uint8Array[], read: boolean): Promise<void> {
    try {
      await this.sendPayload([{ contactId: authorId }], { kind: 'receipt', read, ids });
    } catch (err) {
      this.#c.log('group.receipt_failed', { code: codeOf(err) });
    }
  }

  private findRow(nameOrId: string): GroupRow {
    this.#c.keys();
    const q = nameOrId.trim();
    if (q.length === 0) throw new ClientError('UNKNOWN_GROUP', 'no group name given');
    const all = this.#store.listGroups();
    const lower = q.toLowerCase();
    const byId = all.find((g) => g.id === lower);
    if (byId) return byId;
    if (/^[0-9a-f]{8,}$/.test(lower)) {
      const byPrefix = all.filter((g) => g.id.startsWith(lower));
      if (byPrefix.length === 1) return byPrefix[0]!;
    }
    const byName = all.filter((g) => decodeGroupState(g.state).roster.name.toLowerCase() === lower);
    const active = byName.filter((g) => g.active);
    if (active.length === 1 || (active.length === 0 && byName.length === 1)) return (active[0] ?? byName[0])!;
    if (byName.length > 1) throw new ClientError('AMBIGUOUS_GROUP', `more than one group is called "${q}"; use its id`);
    throw new ClientError('UNKNOWN_GROUP', `no group called "${q}"`);
  }

  private toGroup(row: GroupRow): Group {
    const state = decodeGroupState(row.state);
    const own = this.#c.keys().accountKey;
    const members: GroupMemberInfo[] = state.roster.members.map((m) => {
      const self = equalBytes(m.accountKey, own);
      const id = this.accountIdSync(m.accountKey);
      const contact = self ? undefined : this.#c.store.getContact(id);
      return { id, pigeonId: formatPigeonId(fromHex(id)), name: self ? 'you' : contact?.name ?? formatPigeonId(fromHex(id)), admin: m.admin, self, devices: m.devices.length };
    });
    const me = findMember(state.roster, own);
    return { id: row.id, name: state.roster.name, epoch: state.roster.epoch, members, isAdmin: row.active && me?.admin === true, active: row.active, createdAt: row.createdAt };
  }

  private toMessage(m: GroupMessageRow): GroupMessage {
    const self = m.senderId === this.#c.keys().profile.accountId;
    const contact = self ? undefined : this.#c.store.getContact(m.senderId);
    // Outgoing: 'queued' until the relay took every member device's envelope.
    const state = m.direction === 'out' && m.state === 'queued' && this.#c.countOutbox(m.id) === 0 ? 'sent' : m.state;
    return { ...m, state, senderName: self ? 'you' : contact?.name ?? formatPigeonId(fromHex(m.senderId)) };
  }

  /** Account ids are a hash of the account key; kept in a map since rosters list keys, the store ids. */
  private accountIdSync(accountKey: Uint8Array): string {
    const id = this.#accountIds.get(toHex(accountKey));
    if (id === undefined) throw new ClientError('STORE_ERROR', 'account id not computed');
    return id;
  }

  private async accountId(accountKey: Uint8Array): Promise<string> {
    const key = toHex(accountKey);
    let id = this.#accountIds.get(key);
    if (id === undefined) {
      id = toHex(await accountIdOf(this.#c.crypto, accountKey));
      this.#accountIds.set(key, id);
    }
    return id;
  }

  private async learnRoster(roster: GroupRoster): Promise<void> {
    for (const m of roster.members) await this.accountId(m.accountKey);
  }

  /** Fills the account id cache for stored groups (called once the identity is loaded). */
  async load(): Promise<void> {
    for (const g of this.#store.listGroups()) await this.learnRoster(decodeGroupState(g.state).roster);
  }

  // ---- membership (admins; leave is for everyone) ----------------------------------------------

  /** Creates a group with us as its admin and the given contacts as members. */
  async create(name: string, contactIds: readonly string[] = []): Promise<Group> {
    const k = this.#c.keys();
    const account = this.requireAccount();
    const groupName = checkGroupName(name);
    const members = [...new Set(contactIds.map((c) => this.contactIdOf(c)))].map((id) => this.memberInit(id));
    return this.#c.serial(async () => {
      let state: GroupState;
      try {
        state = await createGroup(this.#c.crypto, { accountKey: account.signing.publicKey, devices: this.ownDeviceIds() }, { name: groupName, members });
      } catch (err) {
        throw asGroupError(err);
      }
      await this.learnRoster(state.roster);
      const row: GroupRow = { id: toHex(state.roster.groupId), state: encodeGroupState(state), ownKey: null, inviteSecret: null, active: true, createdAt: this.#c.now() };
      this.#c.store.transaction(() => this.#store.putGroup(row));
      await this.welcome(state, state.roster.members.map((m) => m.accountKey).filter((a) => !equalBytes(a, k.accountKey)));
      // Our own other devices are members too: they join from the same welcome.
      await this.sendPayload(this.ownOtherDeviceTargets(state), { kind: 'welcome', roster: encodeGroupRoster(state.roster) });
      const group = this.toGroup(row);
      this.#events.emit('group', { kind: 'created', group });
      return group;
    });
  }

  async add(group: string, contactIds: readonly string[]): Promise<Group> {
    const row = this.findRow(group);
    const ops: GroupChangeOp[] = [...new Set(contactIds.map((c) => this.contactIdOf(c)))].map((id) => ({ type: 'add-member', admin: false, ...this.memberInit(id) }));
    if (ops.length === 0) throw new ClientError('BAD_ARGUMENT', 'name at least one contact to add');
    return this.change(row.id, ops);
  }

  async remove(group: string, contactIds: readonly string[]): Promise<Group> {
    const row = this.findRow(group);
    const ops: GroupChangeOp[] = [...new Set(contactIds.map((c) => this.contactIdOf(c)))].map((id) => ({ type: 'remove-member', accountKey: this.accountKeyOf(id) }));
    if (ops.length === 0) throw new ClientError('BAD_ARGUMENT', 'name at least one member to remove');
    return this.change(row.id, ops);
  }

  async setAdmin(group: string, contactId: string, admin: boolean): Promise<Group> {
    const row = this.findRow(group);
    return this.change(row.id, [{ type: 'set-admin', accountKey: this.accountKeyOf(this.contactIdOf(contactId)), admin }]);
  }

  async rename(group: string, name: string): Promise<Group> {
    const row = this.findRow(group);
    return this.change(row.id, [{ type: 'rename', name: checkGroupName(name) }]);
  }

  /** Leaves the group (a change signed by us; every member learns it). */
  async leave(group: string): Promise<Group> {
    const row = this.findRow(group);
    return this.change(row.id, [{ type: 'remove-member', accountKey: this.#c.keys().accountKey }]);
  }

  /** An invite link for the group (admins only): holders become our contact and are added when they ask. */
  async createInviteLink(group: string): Promise<{ link: string }> {
    const row = this.findRow(group);
    if (!this.toGroup(row).isAdmin) throw new ClientError('GROUP_PERMISSION', 'only an admin can invite by link');
    const secret = row.inviteSecret ? fromHex(row.inviteSecret) : this.#c.crypto.randomBytes(GROUP_INVITE_SECRET_BYTES);
    const contactLink = await this.#contacts.createInvite();
    this.#c.store.transaction(() => this.#store.putGroup({ ...(this.#store.getGroup(row.id) ?? row), inviteSecret: toHex(secret) }));
    const state = decodeGroupState(row.state);
    return { link: encodeGroupLink({ groupId: state.roster.groupId, secret, name: state.roster.name, contactLink }) };
  }

  /**
   * Uses a group invite link: becomes the admin's contact (its embedded invite), waits until the
   * introduction is with the relay, then asks to be added. The group appears (event 'group',
   * kind 'joined') when the admin's welcome arrives.
   */
  async joinByLink(link: string): Promise<{ groupId: string; name: string }> {
    this.#c.keys();
    const invite = decodeGroupLink(link);
    const admin = await this.#contacts.acceptInvite(invite.contactLink);
    await this.#contacts.flush();
    await this.#c.serial(() => this.sendPayload([{ contactId: admin.id }], { kind: 'join_request', groupId: invite.groupId, secret: invite.secret }));
    return { groupId: toHex(invite.groupId), name: invite.name };
  }

  private requireAccount() {
    const { account } = this.#c.keys();
    if (!account) throw new ClientError('ACCOUNT_KEY_REQUIRED', 'group changes are signed with the account key, which is on your first device');
    return account;
  }

  private contactIdOf(nameOrId: string): string {
    const q = nameOrId.trim().toLowerCase();
    if (this.#c.store.getContact(q)) return q;
    const all = this.#c.store.listContacts();
    const byName = all.filter((c) => c.name.toLowerCase() === q);
    if (byName.length === 1) return byName[0]!.id;
    if (byName.length > 1) throw new ClientError('AMBIGUOUS_CONTACT', `more than one contact is called "${nameOrId}"`);
    const squash = (s: string) => s.replace(/[\s-]/g, '').toLowerCase();
    const byPigeonId = all.filter((c) => squash(formatPigeonId(fromHex(c.id))) === squash(nameOrId));
    if (byPigeonId.length === 1) return byPigeonId[0]!.id;
    throw new ClientError('UNKNOWN_CONTACT', `no contact called "${nameOrId}"`);
  }

  private accountKeyOf(contactId: string): Uint8Array {
    const row = this.#c.store.getContact(contactId);
    if (!row) throw new ClientError('UNKNOWN_CONTACT', 'no such contact');
    return row.accountKey;
  }

  private memberInit(contactId: string): { accountKey: Uint8Array; devices: Uint8Array[] } {
    const row = this.#c.store.getContact(contactId);
    if (!row) throw new ClientError('UNKNOWN_CONTACT', 'no such contact');
    const devices = this.#c.store
      .listContactDevices(contactId)
      .filter((d) => this.#c.isListed(contactId, decodeDeviceCertificate(d.certificate)))
      .map((d) => fromHex(d.deviceId))
      .slice(0, MAX_GROUP_MEMBER_DEVICES);
    if (devices.length === 0) throw new ClientError('BAD_ARGUMENT', `no device of ${row.name} is known yet (exchange a message first)`);
    return { accountKey: row.accountKey, devices };
  }

  /** Our device ids as the roster lists them: this device and our other devices our signed list names. */
  private ownDeviceIds(): Uint8Array[] {
    const k = this.#c.keys();
    const others = this.#c.store
      .listContactDevices(k.profile.accountId)
      .filter((d) => d.deviceId !== k.profile.deviceId && this.#c.isListed(k.profile.accountId, decodeDeviceCertificate(d.certificate)))
      .map((d) => d.deviceId)
      .sort();
    return [k.profile.deviceId, ...others].slice(0, MAX_GROUP_MEMBER_DEVICES).map(fromHex);
  }

  /** Signs `ops` on our tip, commits it and sends it (change to members old and new, welcome to newcomers). */
  private change(groupId: string, ops: readonly GroupChangeOp[]): Promise<Group> {
    const account = this.requireAccount();
    return this.#c.serial(async () => {
      const row = this.#store.getGroup(groupId);
      if (!row || !row.active) throw new ClientError('UNKNOWN_GROUP', 'you are not a member of this group');
      const before = decodeGroupState(row.state);
      let result: GroupChangeResult & { change: GroupChange };
      try {
        result = await createGroupChange(this.#c.crypto, before, account, ops);
      } catch (err) {
        throw asGroupError(err);
      }
      await this.publish(row, before, result);
      return this.toGroup(this.#store.getGroup(groupId)!);
    });
  }

  /** Lock-free. Commits our change `result` (made on `before`) and sends it. */
  private async publish(row: GroupRow, before: GroupState, result: GroupChangeResult & { change: GroupChange }): Promise<void> {
    const k = this.#c.keys();
    const next = result.state;
    await this.learnRoster(next.roster);
    const stillMember = findMember(next.roster, k.accountKey) !== undefined;
    const updated: GroupRow = { ...row, state: encodeGroupState(next), active: stillMember, ownKey: stillMember ? row.ownKey : null };
    const added = result.effects.addedMembers;
    // Existing members need to reach the newcomers: cards first (order on the wire is not guaranteed; cards never depend on anything).
    if (added.length > 0) {
      const cards = this.cardsOf(added);
      const existing = this.targetsOf([before.roster], added);
      for (let i = 0; i < cards.length; i += MAX_CARDS_PER_PAYLOAD) {
        await this.sendPayload(existing, { kind: 'cards', cards: cards.slice(i, i + MAX_CARDS_PER_PAYLOAD) });
      }
    }
    // Everyone in the roster before or after (a removed member learns it was removed), except newcomers, who get a welcome.
    const targets = this.targetsOf([before.roster, next.roster], added);
    let advanced: GroupMessageRow[] = [];
    await this.sendPayload(targets, { kind: 'change', change: encodeGroupChange(result.change) }, () => {
      this.#store.putGroup(updated);
      if (!stillMember) this.#store.deleteSenderKeys(row.id);
      else if (result.effects.removedMembers.length > 0) advanced = this.advanceAfterRemoval(row.id, next.roster);
    });
    for (const m of advanced) this.#events.emit('status', this.toMessage(m));
    if (added.length > 0) await this.welcome(next, added);
    // Our own newly linked devices join from the roster too (their messages need no other key).
    const ownNew = result.effects.addedDevices.filter((d) => equalBytes(d.accountKey, k.accountKey) && toHex(d.deviceId) !== k.profile.deviceId);
    if (stillMember && ownNew.length > 0) {
      await this.sendPayload([{ contactId: k.profile.accountId, deviceIds: new Set(ownNew.map((d) => toHex(d.deviceId))) }], { kind: 'welcome', roster: encodeGroupRoster(next.roster) });
    }
    const group = this.toGroup(updated);
    this.#events.emit('group', { kind: stillMember ? 'changed' : 'removed', group });
  }

  /**
   * After our account's devices changed (a device linked or revoked): the account-key device
   * re-signs our device set in every group (set-devices, §12.3); a dropped device forces a rekey.
   */
  async syncOwnDevices(): Promise<void> {
    const k = this.#c.keys();
    if (!k.account) return;
    const account = k.account;
    const wanted = this.ownDeviceIds();
    const wantedHex = wanted.map(toHex).sort().join(',');
    for (const g of this.#store.listGroups()) {
      if (!g.active) continue;
      await this.#c.serial(async () => {
        const row = this.#store.getGroup(g.id);
        if (!row?.active) return;
        const before = decodeGroupState(row.state);
        const me = findMember(before.roster, k.accountKey);
        if (!me || me.devices.map((d) => toHex(d.deviceId)).sort().join(',') === wantedHex) return;
        try {
          const result = await createGroupChange(this.#c.crypto, before, account, [{ type: 'set-devices', accountKey: k.accountKey, devices: wanted }]);
          await this.publish(row, before, result);
        } catch (err) {
          this.#c.log('group.set_devices_failed', { code: codeOf(err) });
        }
      });
    }
  }

  /**
   * Lock-free. Sends newcomers the cards of every member and the roster to join from: for many
   * newcomers ONE encrypted blob and a reference each (§12.11), else (or when the blob store
   * cannot be used) inline.
   */
  private async welcome(state: GroupState, newcomers: readonly Uint8Array[]): Promise<void> {
    if (newcomers.length === 0) return;
    const k = this.#c.keys();
    const targets: SendTarget[] = [];
    for (const a of newcomers) {
      if (equalBytes(a, k.accountKey)) continue;
      const m = findMember(state.roster, a);
      targets.push({ contactId: await this.accountId(a), deviceIds: new Set(m?.devices.map((d) => toHex(d.deviceId)) ?? []) });
    }
    if (welcomeByBlob(targets.length, state.roster.members.length) && (await this.welcomeByBlob(state, targets))) return;
    await this.welcomeInline(state, targets);
  }

  /** Lock-free. Every member's card, then the roster, sealed to each target. */
  private async welcomeInline(state: GroupState, targets: readonly SendTarget[]): Promise<void> {
    const cards = this.cardsOf(state.roster.members.map((m) => m.accountKey));
    for (let i = 0; i < cards.length; i += MAX_CARDS_PER_PAYLOAD) {
      await this.sendPayload(targets, { kind: 'cards', cards: cards.slice(i, i + MAX_CARDS_PER_PAYLOAD) });
    }
    await this.sendPayload(targets, { kind: 'welcome', roster: encodeGroupRoster(state.roster) });
  }

  /** Lock-free. Roster + cards uploaded once, a reference to each target; false when the upload failed (send inline). */
  private async welcomeByBlob(state: GroupState, targets: readonly SendTarget[]): Promise<boolean> {
    if (!this.#uploader) return false;
    let reference: AttachmentReference;
    try {
      const bundle = encodeWelcomeBundle({ roster: encodeGroupRoster(state.roster), cards: this.cardsOf(state.roster.members.map((m) => m.accountKey)) });
      reference = await uploadWelcomeBundle(this.#uploader(), bundle);
    } catch (err) {
      this.#c.log('group.welcome_upload_failed', { code: codeOf(err) });
      return false;
    }
    await this.sendPayload(targets, { kind: 'welcome_ref', groupId: state.roster.groupId, epoch: state.roster.epoch, reference });
    this.#c.log('group.welcome_by_blob', { newcomers: targets.length, blobBytes: reference.blobSize });
    return true;
  }

  /** Cards of these accounts that we can vouch for: ours, and contacts'. */
  private cardsOf(accountKeys: readonly Uint8Array[]): MemberCard[] {
    const k = this.#c.keys();
    const cards: MemberCard[] = [];
    for (const a of accountKeys) {
      if (equalBytes(a, k.accountKey)) {
        cards.push(this.#c.ownCard());
        continue;
      }
      const id = this.#accountIds.get(toHex(a));
      const row = id === undefined ? undefined : this.#c.store.getContact(id);
      if (row) cards.push({ accountKey: row.accountKey, name: row.name, relayUrl: row.relayUrl, deliveryToken: row.deliveryToken });
    }
    return cards;
  }

  /** Every listed device of every member of these rosters (minus `except` accounts and this device). */
  private targetsOf(rosters: readonly GroupRoster[], except: readonly Uint8Array[] = []): SendTarget[] {
    const k = this.#c.keys();
    const byAccount = new Map<string, Set<string>>();
    for (const roster of rosters) {
      for (const m of roster.members) {
        if (except.some((e) => equalBytes(e, m.accountKey))) continue;
        const id = this.accountIdSync(m.accountKey);
        const set = byAccount.get(id) ?? new Set<string>();
        for (const d of m.devices) {
          const hex = toHex(d.deviceId);
          if (hex !== k.profile.deviceId) set.add(hex);
        }
        byAccount.set(id, set);
      }
    }
    return [...byAccount.entries()].filter(([, set]) => set.size > 0).map(([contactId, deviceIds]) => ({ contactId, deviceIds }));
  }

  private ownOtherDeviceTargets(state: GroupState): SendTarget[] {
    const k = this.#c.keys();
    return this.targetsOf([state.roster]).filter((t) => t.contactId === k.profile.accountId);
  }

  private wrap(payload: GroupPayload, id = this.#c.crypto.randomBytes(CONTENT_ID_BYTES), sentAt = this.#c.now()): Content {
    return { type: 'group', id, sentAt, payload: encodeGroupPayload(payload) };
  }

  /** Lock-free. */
  private async sendPayload(targets: readonly SendTarget[], payload: GroupPayload, commit?: () => void): Promise<void> {
    const outcome = await this.#c.sendContent(targets, this.wrap(payload), null, commit);
    if (outcome.unreachable.length > 0) this.#c.log('group.unreachable_members', { count: outcome.unreachable.length, kind: payload.kind });
  }

  // ---- messages -------------------------------------------------------------------------------

  /** Encrypts once with our sender key (a fresh one after any removal) and seals it to every member device. */
  async send(group: string, text: string): Promise<GroupMessage> {
    this.#c.keys();
    if (text.length === 0) throw new ClientError('BAD_ARGUMENT', 'message is empty');
    if (utf8.encode(text).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `message is longer than ${MAX_TEXT_BYTES} bytes`);
    const groupId = this.findRow(group).id;
    return this.sendInner(groupId, text, (id, sentAt) => ({ type: 'text', id, sentAt, text }));
  }

  /**
   * Encrypts a Blob/File with a fresh key, uploads it ONCE to our relay's blob store (over fetch,
   * resuming after dropped connections) and sends its reference (+ caption) in one Sender-Key
   * message, so every member device gets the same reference (docs/attachments.md, "Groups").
   */
  async sendAttachmentBlob(group: string, blob: BlobLike, options: SendAttachmentBlobOptions = {}): Promise<GroupMessage> {
    const groupId = this.checkAttachmentSend(group, options.caption ?? '');
    const { reference } = await uploadBlobForMessage(this.attachmentUploader(), blob, options);
    return this.sendAttachmentReference(groupId, reference, options.caption ?? '');
  }

  /** Name, type and size of a group message's file; undefined when it has none (or it is no group message). */
  attachment(messageId: string): AttachmentInfo | undefined {
    this.#c.keys();
    const m = this.#store.getMessage(messageId.trim().toLowerCase());
    const ref = m && loadReference(this.#c.store, m.id);
    return ref ? infoOf(ref) : undefined;
  }

  /** Before an upload: the group exists, we are in it, the caption fits. Returns the group id. */
  protected checkAttachmentSend(group: string, caption: string): string {
    this.#c.keys();
    if (utf8.encode(caption).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `caption is longer than ${MAX_TEXT_BYTES} bytes`);
    const row = this.findRow(group);
    if (!row.active) throw new ClientError('UNKNOWN_GROUP', 'you are not a member of this group');
    return row.id;
  }

  /** What an upload needs; a platform entry's file upload uses it too. */
  protected attachmentUploader(): Uploader {
    if (!this.#uploader) throw new ClientError('BAD_ARGUMENT', 'this client cannot upload attachments');
    return this.#uploader();
  }

  /** Sends an already uploaded file's reference to the group (stored with the message, like one-to-one). */
  protected sendAttachmentReference(groupId: string, attachment: AttachmentReference, caption: string): Promise<GroupMessage> {
    const inner = (id: Uint8Array, sentAt: number): Content => ({ type: 'attachment', id, sentAt, attachment, caption });
    return this.sendInner(groupId, describeAttachment(attachment, caption), inner, (messageId) => storeReference(this.#c.store, messageId, attachment));
  }

  /** The inner content of one of our stored messages, as first sent (for a re-send, §12.9). */
  private innerOf(m: GroupMessageRow): Content {
    const attachment = loadReference(this.#c.store, m.id);
    const id = fromHex(m.id);
    return attachment ? { type: 'attachment', id, sentAt: m.sentAt, attachment, caption: captionFromText(attachment, m.text) } : { type: 'text', id, sentAt: m.sentAt, text: m.text };
  }

  /**
   * The one send path: `inner` encrypted ONCE under our sender key and sealed to every member
   * device (our other devices included: they store it as sent); `commitExtra` joins the commit.
   */
  private sendInner(groupId: string, text: string, makeInner: (id: Uint8Array, sentAt: number) => Content, commitExtra?: (messageId: string) => void): Promise<GroupMessage> {
    const k = this.#c.keys();
    return this.#c.serial(async () => {
      const row = this.#store.getGroup(groupId);
      if (!row || !row.active) throw new ClientError('UNKNOWN_GROUP', 'you are not a member of this group');
      const state = decodeGroupState(row.state);
      const self: GroupDeviceRef = { accountKey: k.accountKey, deviceId: fromHex(k.profile.deviceId) };
      let own: SenderKeyState | undefined = row.ownKey ? decodeSenderKeyState(row.ownKey) : undefined;
      let rekeyed = false;
      try {
        if (needsRekey(state, self, own)) {
          own = (await createGroupSenderKey(this.#c.crypto, state, self)).senderKey;
          rekeyed = true;
        }
      } catch (err) {
        throw asGroupError(err);
      }
      const key = own!;
      const id = this.#c.crypto.randomBytes(CONTENT_ID_BYTES);
      const sentAt = this.#c.now();
      const inner = encodeContent(makeInner(id, sentAt));
      const distribution = senderKeysGroupProtocol.distributionOf(key);
      const encrypted = await groupEncrypt(this.#c.crypto, state, self, key, inner);
      const message: GroupMessageRow = {
        id: toHex(id),
        groupId,
        senderId: k.profile.accountId,
        direction: 'out',
        text,
        sentAt,
        receivedAt: null,
        state: 'queued',
        read: true,
      };
      const content = this.wrap({ kind: 'message', groupId: state.roster.groupId, distribution, ciphertext: encrypted.message }, id, sentAt);
      const outcome = await this.#c.sendContent(this.targetsOf([state.roster]), content, message.id, () => {
        this.#store.putGroup({ ...row, ownKey: encodeSenderKeyState(encrypted.senderKey) });
        this.#store.insertMessage(message);
        commitExtra?.(message.id);
        // Which key carried it: a member that cannot use this copy asks for it by these (§12.9).
        this.#store.putSent({ groupId, messageId: message.id, distributionId: toHex(key.distributionId), iteration: key.iteration, epoch: state.roster.epoch });
      });
      this.#c.log('group.sent', { envelopes: outcome.envelopes, unreachable: outcome.unreachable.length, rekeyed });
      return this.toMessage(message);
    });
  }

  // ---- receiving ------------------------------------------------------------------------------

  /** The receive hook (client.ts): owns content type `group`. */
  readonly handle = async (input: ExtensionInput): Promise<ExtensionResult | null> => {
    if (input.content.type !== 'group') return null;
    let payload: GroupPayload;
    try {
      payload = decodeGroupPayload(input.content.payload);
    } catch (err) {
      this.#c.log('group.bad_payload', { code: codeOf(err) });
      return { commit: () => undefined };
    }
    // Strangers may be members we have not heard of yet; they cannot hand us contacts or ask to join.
    if (!input.known && !input.self && (payload.kind === 'cards' || payload.kind === 'join_request' || payload.kind === 'welcome_ref' || payload.kind === 'welcome_request')) {
      return { commit: () => undefined };
    }
    const outcome = await this.process(input.sender, payload, input.now);
    if (outcome.action === 'apply') return outcome;
    if (outcome.action === 'drop') {
      this.#c.log('group.dropped', { kind: payload.kind, reason: outcome.reason });
      return { commit: () => undefined };
    }
    const groupId = this.groupIdOf(payload);
    if (groupId === null) return { commit: () => undefined };
    if (this.#store.countHeld(groupId) >= MAX_HELD_PER_GROUP) {
      this.#c.log('group.held_full');
      return { commit: () => undefined };
    }
    const hold = () => this.#store.hold({ groupId, sender: encodeDeviceCertificate(input.sender), payload: input.content.type === 'group' ? input.content.payload : new Uint8Array(0), at: input.now });
    return outcome.after ? { commit: hold, after: outcome.after } : { commit: hold };
  };

  private groupIdOf(payload: GroupPayload): string | null {
    try {
      switch (payload.kind) {
        case 'message':
        case 'join_request':
        case 'resend':
        case 'welcome_ref':
        case 'welcome_request':
          return toHex(payload.groupId);
        case 'receipt':
          return null;
        case 'change':
          return toHex(decodeGroupChange(payload.change).groupId);
        case 'welcome':
          return toHex(decodeGroupRoster(payload.roster).groupId);
        case 'cards':
          return null;
      }
    } catch {
      return null;
    }
  }

  private async process(senderCert: DeviceCertificate, payload: GroupPayload, now: number): Promise<Outcome> {
    switch (payload.kind) {
      case 'cards':
        return this.processCards(senderCert, payload.cards);
      case 'receipt':
        return this.processReceipt(senderCert, payload.read, payload.ids, now);
      case 'resend':
        return this.processResend(senderCert, payload);
      case 'welcome':
        return this.processWelcome(senderCert, payload.roster);
      case 'change':
        return this.processChange(payload.change);
      case 'message':
        return this.processMessage(senderCert, payload, now);
      case 'join_request':
        return this.processJoinRequest(senderCert, payload.groupId, payload.secret);
      case 'welcome_ref':
        return this.processWelcomeRef(senderCert, payload);
      case 'welcome_request':
        return this.processWelcomeRequest(senderCert, payload);
    }
  }

  private processCards(senderCert: DeviceCertificate, cards: readonly MemberCard[]): Outcome {
    return { action: 'apply', commit: () => undefined, after: () => this.applyCards(senderCert, cards) };
  }

  /** Lock-free. Members who are not contacts yet become contacts (a card never overrides one). */
  private async applyCards(senderCert: DeviceCertificate, cards: readonly MemberCard[]): Promise<void> {
    for (const card of cards) {
      try {
        await this.accountId(card.accountKey);
        // A card about its own sender is authoritative for its delivery token (§12.10): it may
        // replace one that another member handed us before the sender rotated it.
        if (equalBytes(card.accountKey, senderCert.accountKey)) this.refreshOwnerCard(card);
        await this.#c.ensureContact(card);
      } catch (err) {
        this.#c.log('group.bad_card', { code: codeOf(err) });
      }
    }
  }

  /**
   * A welcome by blob (§12.11): download and verify the bundle (its hash and key came sealed from
   * the admin, so the relay cannot alter it), then apply it exactly like inline cards + welcome
   * from that admin. When the blob cannot be used (gone, tampered, too large, unreachable) the
   * payload is held and the admin device asked once for the welcome inline; the inline welcome
   * then makes the held one obsolete ('behind').
   */
  private async processWelcomeRef(senderCert: DeviceCertificate, p: Extract<GroupPayload, { kind: 'welcome_ref' }>): Promise<Outcome> {
    const existing = this.#store.getGroup(toHex(p.groupId));
    if (existing?.active && decodeGroupState(existing.state).roster.epoch >= p.epoch) return drop('behind');
    let roster: Uint8Array;
    let cards: readonly MemberCard[];
    try {
      ({ roster, cards } = decodeWelcomeBundle(await downloadWelcomeBundle(this.#c.crypto, p.reference)));
      const named = decodeGroupRoster(roster);
      if (!equalBytes(named.groupId, p.groupId) || named.epoch !== p.epoch) throw new ClientError('BAD_ARGUMENT', 'the welcome blob names another group or epoch');
    } catch (err) {
      this.#c.log('group.welcome_blob_failed', { code: codeOf(err) });
      return this.askInlineWelcome(senderCert, p.groupId, p.epoch);
    }
    const welcome = await this.processWelcome(senderCert, roster);
    // Cards only from the admin whose welcome we accept (processWelcome checks it).
    if (welcome.action !== 'apply') return welcome;
    return {
      action: 'apply',
      commit: welcome.commit,
      after: async () => {
        await this.applyCards(senderCert, cards);
        await welcome.after?.();
      },
    };
  }

  /** Lock-free outcome: hold the welcome_ref and ask its sender device for the welcome inline (once per group, epoch and device). */
  private async askInlineWelcome(senderCert: DeviceCertificate, groupId: Uint8Array, epoch: number): Promise<Outcome> {
    const admin = await groupDeviceRefOf(this.#c.crypto, senderCert);
    const deviceHex = toHex(admin.deviceId);
    const asked = `${toHex(groupId)}/${epoch}/${deviceHex}`;
    if (this.#askedWelcome.has(asked)) return HOLD;
    return {
      action: 'hold',
      after: async () => {
        if (this.#askedWelcome.size >= MAX_ASKED_REMEMBERED) this.#askedWelcome.clear();
        this.#askedWelcome.add(asked);
        const contactId = await this.accountId(admin.accountKey);
        await this.sendPayload([{ contactId, deviceIds: new Set([deviceHex]) }], { kind: 'welcome_request', groupId, epoch });
      },
    };
  }

  /** A member device could not use our welcome blob: send it the current roster and cards inline (bounded per device). */
  private async processWelcomeRequest(senderCert: DeviceCertificate, p: Extract<GroupPayload, { kind: 'welcome_request' }>): Promise<Outcome> {
    const id = toHex(p.groupId);
    const row = this.#store.getGroup(id);
    if (!row?.active) return drop('unknown_group');
    const roster = decodeGroupState(row.state).roster;
    // Asked about an epoch we have not reached: the change that added the requester is on its way.
    if (p.epoch > roster.epoch) return HOLD;
    const requester = await groupDeviceRefOf(this.#c.crypto, senderCert);
    if (!findDevice(roster, requester)) return drop('not_a_member');
    const deviceHex = toHex(requester.deviceId);
    const counted = `${id}/${deviceHex}`;
    const times = this.#inlineWelcomes.get(counted) ?? 0;
    if (times >= MAX_INLINE_WELCOMES_PER_DEVICE) return drop('welcome_limit');
    return {
      action: 'apply',
      commit: () => undefined,
      after: async () => {
        if (this.#inlineWelcomes.size >= MAX_ASKED_REMEMBERED) this.#inlineWelcomes.clear();
        this.#inlineWelcomes.set(counted, times + 1);
        const current = this.#store.getGroup(id);
        if (!current?.active) return;
        try {
          const contactId = await this.accountId(requester.accountKey);
          await this.welcomeInline(decodeGroupState(current.state), [{ contactId, deviceIds: new Set([deviceHex]) }]);
          this.#c.log('group.welcome_inline_sent');
        } catch (err) {
          this.#c.log('group.welcome_inline_failed', { code: codeOf(err) });
        }
      },
    };
  }

  /** Lock-free. Takes the sender's own card's token for an existing contact and re-addresses what is still queued for it. */
  private refreshOwnerCard(card: MemberCard): void {
    const id = this.#accountIds.get(toHex(card.accountKey));
    const s = this.#c.store;
    const contact = id === undefined ? undefined : s.getContact(id);
    if (!contact || equalBytes(contact.deliveryToken, card.deliveryToken) || card.deliveryToken.length < 16) return;
    s.transaction(() => {
      s.putContact({ ...contact, deliveryToken: card.deliveryToken });
      // Envelopes still queued for it carry the old token: the relay would refuse them.
      for (const row of s.listOutbox()) if (row.contactId === contact.id) s.putOutbox({ ...row, deliveryToken: card.deliveryToken });
    });
    this.#c.log('group.card_refreshed');
  }

  /** Called inside the transaction that stores our rotated delivery token (client.ts). */
  noteOwnTokenChanged(): void {
    this.#c.store.setState(CARD_CHANGED_KEY, String(this.#c.now()));
  }

  /** Lock-free. After our token rotated: newcomers get our own card from us (the admin's copy may predate the rotation). */
  private async sendOwnCardTo(state: GroupState, newcomers: readonly Uint8Array[]): Promise<void> {
    const k = this.#c.keys();
    if (this.#c.store.getState(CARD_CHANGED_KEY) === undefined) return;
    const targets: SendTarget[] = [];
    for (const a of newcomers) {
      if (equalBytes(a, k.accountKey)) continue;
      const m = findMember(state.roster, a);
      if (m) targets.push({ contactId: await this.accountId(a), deviceIds: new Set(m.devices.map((d) => toHex(d.deviceId))) });
    }
    if (targets.length > 0) await this.sendPayload(targets, { kind: 'cards', cards: [this.#c.ownCard()] });
  }

  /** A member's delivery or read receipt for our messages (any of its devices; ids of any of our groups). */
  private async processReceipt(senderCert: DeviceCertificate, read: boolean, ids: readonly Uint8Array[], now: number): Promise<Outcome> {
    const k = this.#c.keys();
    if (equalBytes(senderCert.accountKey, k.accountKey)) return drop('own_receipt');
    const memberId = await this.accountId(senderCert.accountKey);
    this.#c.log('group.receipt_in', { read, ids: ids.length });
    // Reciprocal read receipts (like one-to-one): with ours off, theirs only say 'delivered'.
    const state = read && this.#c.receiptSettings().readReceipts ? 'read' : 'delivered';
    const changed: GroupMessageRow[] = [];
    return {
      action: 'apply',
      commit: () => {
        const rosters = new Map<string, GroupRoster | null>();
        for (const raw of ids) {
          const m = this.#store.getMessage(toHex(raw));
          if (!m || m.direction !== 'out' || m.senderId !== k.profile.accountId) continue;
          if (!rosters.has(m.groupId)) {
            const g = this.#store.getGroup(m.groupId);
            rosters.set(m.groupId, g ? decodeGroupState(g.state).roster : null);
          }
          const roster = rosters.get(m.groupId);
          // Only members may say something about a group message.
          if (!roster || !findMember(roster, senderCert.accountKey)) continue;
          this.#store.putReceipt({ messageId: m.id, memberId, state, at: now });
          const moved = this.advanceState(m, roster);
          if (moved) changed.push(moved);
        }
      },
      after: async () => {
        for (const m of changed) this.#events.emit('status', this.toMessage(m));
      },
    };
  }

  /**
   * Members left the group: our recent messages that waited only for them are now delivered or
   * read by everyone who still counts (audienceOf). Inside the caller's commit; returns the rows
   * that moved, for 'status' events after it.
   */
  private advanceAfterRemoval(groupId: string, roster: GroupRoster): GroupMessageRow[] {
    const own = this.#c.keys().profile.accountId;
    const moved: GroupMessageRow[] = [];
    for (const m of this.#store.listMessages(groupId, RECOMPUTE_AFTER_REMOVAL)) {
      if (m.direction !== 'out' || m.senderId !== own || (m.state !== 'sent' && m.state !== 'delivered')) continue;
      const next = this.advanceState(m, roster);
      if (next) moved.push(next);
    }
    return moved;
  }

  /** Moves our message forward to where its whole audience is; the moved row, or null. Inside a commit. */
  private advanceState(m: GroupMessageRow, roster: GroupRoster): GroupMessageRow | null {
    const next = this.audienceStateOf(m, roster);
    if (next === null || GROUP_STATE_RANK[next] <= GROUP_STATE_RANK[m.state]) return null;
    this.#store.setMessageState(m.id, next);
    return { ...m, state: next };
  }

  /** Where the whole audience of our message is (null: not all of it has a receipt yet). */
  private audienceStateOf(m: GroupMessageRow, roster: GroupRoster): 'delivered' | 'read' | null {
    const audience = audienceOf(roster, this.#c.keys().accountKey, this.sentEpochOf(m.id));
    // Cheap count first: most receipts of a big group arrive while others are still missing.
    if (audience.length === 0 || this.#store.countReceipts(m.id, 'delivered') < audience.length) return null;
    return audienceState(audience.map((a) => this.accountIdSync(a.accountKey)), this.#store.listReceipts(m.id));
  }

  /**
   * A member could not use one of our copies (§12.9). Held until we reached its epoch (the change
   * that made our key stale is on its way to us); then the message is re-sent to that device
   * alone under our current key (a new one if the change requires it).
   */
  private async processResend(senderCert: DeviceCertificate, p: Extract<GroupPayload, { kind: 'resend' }>): Promise<Outcome> {
    const id = toHex(p.groupId);
    const row = this.#store.getGroup(id);
    if (!row) return drop('unknown_group');
    if (!row.active) return drop('inactive');
    const state = decodeGroupState(row.state);
    if (p.epoch > state.roster.epoch) return HOLD;
    const requester = await groupDeviceRefOf(this.#c.crypto, senderCert);
    if (!findDevice(state.roster, requester)) return drop('not_a_member');
    const sent = this.#store.findSent(id, toHex(p.distributionId), p.iteration);
    const m = sent && this.#store.getMessage(sent.messageId);
    if (!m || m.direction !== 'out') return drop('unknown_copy');
    const deviceHex = toHex(requester.deviceId);
    const counted = `${m.id}/${deviceHex}`;
    const times = this.#resent.get(counted) ?? 0;
    if (times >= MAX_RESENDS_PER_DEVICE) return drop('resend_limit');
    return {
      action: 'apply',
      commit: () => undefined,
      after: async () => {
        if (this.#resent.size >= MAX_ASKED_REMEMBERED) this.#resent.clear();
        this.#resent.set(counted, times + 1);
        try {
          await this.resendTo(id, m, requester.accountKey, deviceHex);
        } catch (err) {
          this.#c.log('group.resend_failed', { code: codeOf(err) });
        }
      },
    };
  }

  /** Lock-free. Our message `m` again, for one device, under our current sender key (with its distribution). */
  private async resendTo(groupId: string, m: GroupMessageRow, accountKey: Uint8Array, deviceHex: string): Promise<void> {
    const k = this.#c.keys();
    const row = this.#store.getGroup(groupId);
    if (!row?.active) return;
    const state = decodeGroupState(row.state);
    const self: GroupDeviceRef = { accountKey: k.accountKey, deviceId: fromHex(k.profile.deviceId) };
    let own: SenderKeyState | undefined = row.ownKey ? decodeSenderKeyState(row.ownKey) : undefined;
    if (needsRekey(state, self, own)) own = (await createGroupSenderKey(this.#c.crypto, state, self)).senderKey;
    const key = own!;
    // The same inner content (id, time, text): the member stores it once, whichever copy it opens.
    const inner = encodeContent(this.innerOf(m));
    const encrypted = await groupEncrypt(this.#c.crypto, state, self, key, inner);
    // A fresh outer content id: the first copy's id is already in the member's `seen` table.
    const content = this.wrap({ kind: 'message', groupId: state.roster.groupId, distribution: senderKeysGroupProtocol.distributionOf(key), ciphertext: encrypted.message });
    const contactId = await this.accountId(accountKey);
    await this.#c.sendContent([{ contactId, deviceIds: new Set([deviceHex]) }], content, null, () => {
      this.#store.putGroup({ ...row, ownKey: encodeSenderKeyState(encrypted.senderKey) });
      this.#store.putSent({ groupId, messageId: m.id, distributionId: toHex(key.distributionId), iteration: key.iteration, epoch: state.roster.epoch });
    });
    this.#c.log('group.resent');
  }

  /** Lock-free outcome for a copy we cannot use: ask its sender device for it again (once per copy). */
  private askAgain(senderId: string, senderDeviceId: string, state: GroupState, payload: Extract<GroupPayload, { kind: 'message' }>, reason: string): Outcome {
    const ref = copyRefOf(payload.ciphertext);
    if (!ref) return drop('bad_message');
    const asked = `${senderDeviceId}/${ref.distributionId}/${ref.iteration}`;
    if (this.#asked.has(asked)) return drop(`${reason}_asked`);
    return {
      action: 'apply',
      commit: () => undefined,
      after: async () => {
        if (this.#asked.size >= MAX_ASKED_REMEMBERED) this.#asked.clear();
        this.#asked.add(asked);
        this.#c.log('group.resend_asked', { reason });
        await this.sendPayload([{ contactId: senderId, deviceIds: new Set([senderDeviceId]) }], {
          kind: 'resend',
          groupId: state.roster.groupId,
          distributionId: fromHex(ref.distributionId),
          iteration: ref.iteration,
          epoch: state.roster.epoch,
        });
      },
    };
  }

  private async processWelcome(senderCert: DeviceCertificate, rosterBytes: Uint8Array): Promise<Outcome> {
    const k = this.#c.keys();
    let state: GroupState;
    try {
      state = await groupStateFromRoster(this.#c.crypto, rosterBytes);
    } catch (err) {
      return drop(codeOf(err));
    }
    if (!findMember(state.roster, k.accountKey)) return drop('not_in_roster');
    // Only an admin adds members: the roster must come from one (or from our own other device).
    const author = findMember(state.roster, senderCert.accountKey);
    if (!equalBytes(senderCert.accountKey, k.accountKey) && author?.admin !== true) return drop('not_from_admin');
    const id = toHex(state.roster.groupId);
    const existing = this.#store.getGroup(id);
    if (existing?.active) {
      const current = decodeGroupState(existing.state);
      if (current.roster.epoch >= state.roster.epoch) return drop('behind');
    }
    await this.learnRoster(state.roster);
    const row: GroupRow = { id, state: encodeGroupState(state), ownKey: null, inviteSecret: existing?.inviteSecret ?? null, active: true, createdAt: existing?.createdAt ?? this.#c.now() };
    return {
      action: 'apply',
      commit: () => this.#store.putGroup(row),
      after: async () => {
        this.#events.emit('group', { kind: 'joined', group: this.toGroup(row) });
        await this.retryHeld(id);
      },
    };
  }

  private async processChange(changeBytes: Uint8Array): Promise<Outcome> {
    const k = this.#c.keys();
    let change: GroupChange;
    try {
      change = decodeGroupChange(changeBytes);
    } catch (err) {
      return drop(codeOf(err));
    }
    const id = toHex(change.groupId);
    const row = this.#store.getGroup(id);
    if (!row) return HOLD;
    if (!row.active) return drop('inactive');
    const before = decodeGroupState(row.state);
    let result: GroupChangeResult;
    try {
      result = await applyGroupChange(this.#c.crypto, before, change);
    } catch (err) {
      const code = codeOf(err);
      return code === 'UNKNOWN_PARENT' ? HOLD : drop(code);
    }
    await this.learnRoster(result.state.roster);
    const stillMember = findMember(result.state.roster, k.accountKey) !== undefined;
    const updated: GroupRow = { ...row, state: encodeGroupState(result.state), active: stillMember, ownKey: stillMember ? row.ownKey : null };
    const ours = result.orphaned.filter((c) => equalBytes(c.author, k.accountKey));
    let advanced: GroupMessageRow[] = [];
    return {
      action: 'apply',
      commit: () => {
        this.#store.putGroup(updated);
        if (!stillMember) this.#store.deleteSenderKeys(id);
        else if (result.effects.removedMembers.length > 0) advanced = this.advanceAfterRemoval(id, result.state.roster);
      },
      after: async () => {
        this.#events.emit('group', { kind: stillMember ? 'changed' : 'removed', group: this.toGroup(updated) });
        for (const m of advanced) this.#events.emit('status', this.toMessage(m));
        // Our change lost a fork: re-sign what is still useful on the winner before sending anything else (§12.4).
        if (stillMember && k.account) {
          for (const orphan of ours) {
            const current = this.#store.getGroup(id)!;
            const base = decodeGroupState(current.state);
            try {
              const rebased = await rebaseGroupChange(this.#c.crypto, base, k.account, orphan);
              if (rebased) await this.publish(current, base, rebased);
            } catch (err) {
              this.#c.log('group.rebase_failed', { code: codeOf(err) });
            }
          }
        }
        // Our token was rotated: the card of us the admin gave the newcomers may be older (§12.10).
        if (stillMember && result.effects.addedMembers.length > 0 && !equalBytes(change.author, k.accountKey)) {
          await this.sendOwnCardTo(result.state, result.effects.addedMembers);
        }
        await this.retryHeld(id);
      },
    };
  }

  private async processMessage(senderCert: DeviceCertificate, payload: Extract<GroupPayload, { kind: 'message' }>, now: number): Promise<Outcome> {
    const k = this.#c.keys();
    const id = toHex(payload.groupId);
    const row = this.#store.getGroup(id);
    if (!row) return HOLD;
    if (!row.active) return drop('inactive');
    const state = decodeGroupState(row.state);
    const sender = await groupDeviceRefOf(this.#c.crypto, senderCert);
    const senderDeviceId = toHex(sender.deviceId);
    const distId = groupMessageDistributionId(payload.ciphertext);
    if (!distId) return drop('bad_message');
    const distHex = toHex(distId);
    const stored = this.#store.getSenderKey(id, senderDeviceId, distHex);
    let key: SenderKeyState | undefined = stored ? decodeSenderKeyState(stored) : undefined;
    // A member we do not know yet, or a key made after a change we have not seen: wait for that change.
    const fromTheFuture = (epoch: number) => epoch > state.roster.epoch;
    // A copy we cannot use although its sender is a member device for us: its key predates a
    // change we saw first (a removal: STALE_SENDER_KEY), or we lack the key. Ask for it again.
    const senderAccountId = await this.accountId(sender.accountKey);
    const unusable = (reason: string): Outcome =>
      findDevice(state.roster, sender) ? this.askAgain(senderAccountId, senderDeviceId, state, payload, reason) : drop(reason);
    if (!key && payload.distribution) {
      let epoch = -1;
      try {
        const d = decodeSenderKeyDistribution(payload.distribution);
        epoch = d.epoch;
        if (!equalBytes(d.distributionId, distId)) return drop('distribution_mismatch');
        key = processSenderKeyDistribution(state, sender, payload.distribution);
      } catch (err) {
        const code = codeOf(err);
        if (code === 'STALE_SENDER_KEY') return unusable('stale_key');
        return code === 'NOT_A_MEMBER' && fromTheFuture(epoch) ? HOLD : drop(code);
      }
    }
    if (!key) return unusable('no_key');
    let decrypted: { senderKey: SenderKeyState; plaintext: Uint8Array };
    try {
      decrypted = await groupDecrypt(this.#c.crypto, state, sender, key, payload.ciphertext);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'STALE_SENDER_KEY') return unusable('stale_key');
      return code === 'NOT_A_MEMBER' && fromTheFuture(key.epoch) ? HOLD : drop(code);
    }
    let inner: Content;
    try {
      inner = decodeContent(decrypted.plaintext);
    } catch (err) {
      return drop(codeOf(err));
    }
    // A text, or a file's reference (+ caption): the same for every member, uploaded once.
    if (inner.type !== 'text' && inner.type !== 'attachment') return drop('unsupported_inner_type');
    const attachment = inner.type === 'attachment' ? inner.attachment : null;
    const senderId = senderAccountId;
    const self = equalBytes(sender.accountKey, k.accountKey);
    const message: GroupMessageRow = {
      id: toHex(inner.id),
      groupId: id,
      senderId,
      direction: self ? 'out' : 'in',
      text: inner.type === 'text' ? inner.text : describeAttachment(inner.attachment, inner.caption),
      sentAt: inner.sentAt,
      receivedAt: now,
      // Our own message seen on another of our devices: it was sent.
      state: self ? 'sent' : 'delivered',
      read: self,
    };
    let inserted = false;
    return {
      action: 'apply',
      commit: () => {
        this.#store.putSenderKey(id, senderDeviceId, distHex, encodeSenderKeyState(decrypted.senderKey));
        inserted = this.#store.insertMessage(message);
        // Where client.downloadAttachment(Bytes) finds it, as for one-to-one files.
        if (inserted && attachment) storeReference(this.#c.store, message.id, attachment);
      },
      after: async () => {
        if (!inserted) return;
        this.#events.emit('message', this.toMessage(message));
        // The author's devices learn it arrived (§12.8); our own messages seen on another device need none.
        if (!self && this.#c.receiptSettings().deliveryReceipts) await this.sendReceipt(senderId, [inner.id], false);
      },
    };
  }

  private async processJoinRequest(senderCert: DeviceCertificate, groupId: Uint8Array, secret: Uint8Array): Promise<Outcome> {
    const k = this.#c.keys();
    const id = toHex(groupId);
    const row = this.#store.getGroup(id);
    if (!row || !row.active || row.inviteSecret === null || !k.account) return drop('no_invite');
    if (!equalBytes(fromHex(row.inviteSecret), secret)) return drop('bad_secret');
    const state = decodeGroupState(row.state);
    if (findMember(state.roster, senderCert.accountKey)) return drop('already_member');
    const account = k.account;
    return {
      action: 'apply',
      commit: () => undefined,
      after: async () => {
        try {
          const contactId = await this.accountId(senderCert.accountKey);
          const current = this.#store.getGroup(id)!;
          const before = decodeGroupState(current.state);
          if (findMember(before.roster, senderCert.accountKey)) return;
          const result = await createGroupChange(this.#c.crypto, before, account, [{ type: 'add-member', admin: false, ...this.memberInit(contactId) }]);
          await this.publish(current, before, result);
        } catch (err) {
          this.#c.log('group.join_failed', { code: codeOf(err) });
        }
      },
    };
  }

  /** Lock-free. Applies held payloads of a group that can now be used, until none moves. */
  private async retryHeld(groupId: string): Promise<void> {
    let progress = true;
    while (progress) {
      progress = false;
      for (const held of this.#store.listHeld(groupId)) {
        if (this.#c.now() - held.at > HELD_TTL_MS) {
          this.#c.store.transaction(() => this.#store.deleteHeld(held.seq));
          continue;
        }
        let outcome: Outcome;
        try {
          outcome = await this.process(decodeDeviceCertificate(held.sender), decodeGroupPayload(held.payload), held.at);
        } catch (err) {
          outcome = drop(codeOf(err));
        }
        if (outcome.action === 'hold') continue;
        const apply = outcome.action === 'apply' ? outcome : null;
        this.#c.store.transaction(() => {
          this.#store.deleteHeld(held.seq);
          apply?.commit();
        });
        if (apply?.after) await apply.after();
        progress = true;
      }
    }
  }
}
