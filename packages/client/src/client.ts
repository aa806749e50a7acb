/**
 * PigeonClient: the platform-neutral SDK core's public API. The Node entry (index.node.ts) adds
 * `open()` with SQLite and `ws`; a browser entry will add its own store and socket.
 *
 * The work is in core/ (one purpose per file, each taking the shared ClientCore): identity.ts
 * (init), invites.ts, contacts.ts, key-changes.ts, messages.ts, sealing.ts, outbox.ts,
 * receive.ts, acks.ts, prekeys.ts, relays.ts; seam.ts gives feature modules their internals.
 *
 * Invariants (docs: client API, "Receiving" / "Sending"):
 * - Every ratchet read-modify-write runs in the core's serial queue, and its result is committed
 *   in ONE store transaction together with what it produced (message, outbox rows, consumed prekeys).
 * - Incoming mail is acked to the relay only after that commit; a redelivery after a crash is
 *   recognised (DUPLICATE_MESSAGE / seen content id) and only acked again.
 * - Outgoing envelopes are sealed once, stored with a random relay messageId, and resent as the
 *   same bytes until the relay acks them, so the relay can deduplicate.
 * - Sends and bundle fetches use an anonymous connection (sealed sender); the authenticated
 *   connection only receives.
 */
import { fromHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { computeSafetyNumber, formatSafetyNumber, verifySafetyNumberQr } from '@pigeon/protocol';
import {
  downloadBytesForMessage,
  downloadForMessageTo,
  uploadBlobForMessage,
  type DownloadAttachmentBytesOptions,
  type DownloadAttachmentToOptions,
  type SendAttachmentBlobOptions,
} from './attachments/client-transfer.js';
import type { AttachmentSink } from './attachments/sink-download.js';
import type { BlobLike } from './attachments/memory-transfer.js';
import { infoOf, loadReference } from './attachments/messages.js';
import type { AttachmentInfo, AttachmentReference } from './attachments/reference.js';
import { checkName, expectOk } from './core/checks.js';
import { findContact } from './core/contacts.js';
import { ClientCore, DELIVERY_RECEIPTS_KEY, READ_RECEIPTS_KEY, toStored } from './core/context.js';
import { keysOf, registerIdentity } from './core/identity.js';
import { acceptInvite, createInvite } from './core/invites.js';
import { markRead, sendAttachmentReference, sendText } from './core/messages.js';
import { pumpOutbox } from './core/outbox.js';
import { topUpPreKeys } from './core/prekeys.js';
import { anonConnection, startAuth } from './core/relays.js';
import { internalsOf } from './core/seam.js';
import { DeviceManager } from './devices/manager.js';
import { ClientError } from './errors.js';
import { GroupManager } from './groups/manager.js';
import { MemoryGroupStore } from './groups/store.js';
import type { GroupStore } from './groups/store.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './limits.js';
import { MessageLife } from './message-life/manager.js';
import type { BlockResult, BlockedContact, MessageRequest, MessageUpdate, TypingEvent } from './message-life/types.js';
import type { ClientStore } from './store/types.js';
import type { ConnectionTuning } from './transport/relay-connection.js';
import type { SocketFactory } from './transport/socket.js';
import type { ConnectionState, Contact, Logger, Profile, ReceiptSettings, SafetyEvent, SafetyNumber, StoredMessage } from './types.js';

export { MAX_SENDS_IN_FLIGHT, SEND_RETRY_MS } from './core/outbox.js';
export { DELIVERY_RECEIPTS_KEY, READ_RECEIPTS_KEY } from './core/context.js';
/** Keys the transport (routes, last good route) may keep in the state table. */
export const TRANSPORT_STATE_PREFIX = 'transport.';

export interface ClientDeps {
  readonly store: ClientStore;
  readonly crypto: CryptoBackend;
  readonly socketFactory: SocketFactory;
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Transport tuning (tests shorten timeouts and backoff). */
  readonly connection?: ConnectionTuning;
  /** Default wait for the relay in init/acceptInvite/connect. */
  readonly connectTimeoutMs?: number;
  /** Where groups are kept (SQLite in the Node entry); default: in memory, lost on restart. */
  readonly groupStore?: GroupStore;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class PigeonClient {
  /** Everything the core modules share, keys included (never shown: see toJSON). */
  readonly #core: ClientCore;
  /** Groups (docs/protocol.md §12): create, change, send, receive; events on groups.on(...). */
  readonly groups: GroupManager;
  /** Message life (docs/message-life.md): replies, reactions, edits, deletes, timers, typing, blocks, requests. */
  readonly life: MessageLife;
  /** Linked devices (docs/protocol.md §13): link, list, remove; signed device lists of contacts. */
  readonly devices: DeviceManager;

  constructor(deps: ClientDeps) {
    const core = new ClientCore({
      store: deps.store,
      crypto: deps.crypto,
      socketFactory: deps.socketFactory,
      now: deps.now ?? Date.now,
      log: deps.logger ?? (() => undefined),
      tuning: deps.connection ?? {},
      connectTimeoutMs: deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    this.#core = core;
    this.devices = new DeviceManager(internalsOf(core), {
      authRequest: async (frame) => {
        if (!core.auth) await this.connect();
        await core.auth!.waitConnected(core.connectTimeoutMs);
        return core.auth!.request(frame);
      },
      anonRequest: async (url, frame) => {
        const conn = anonConnection(core, url);
        await conn.waitConnected(core.connectTimeoutMs);
        return conn.request(frame);
      },
      adoptIdentity: async (identity, write) => {
        core.open();
        if (core.identity) throw new ClientError('ALREADY_INITIALIZED', 'this profile already has an identity');
        core.store.transaction(() => {
          core.store.putIdentity(identity);
          write();
        });
        await this.load();
        return core.identity!.profile;
      },
      socketFactory: core.socketFactory,
      tuning: core.tuning,
      connectTimeoutMs: core.connectTimeoutMs,
      onOwnDevicesChanged: () => this.groups.syncOwnDevices(),
      isInitialized: () => core.identity !== null,
      emitMessage: (row) => core.events.emit('message', toStored(row), core.listenerError),
    });
    core.devices = this.devices;
    core.extensions.push(this.devices.handle);
    // Contacts added on this device become contacts of our other devices too (they receive from them).
    core.events.on('contact', (c) => this.devices.shareContact(c.id));
    this.groups = this.makeGroups(
      internalsOf(core),
      deps.groupStore ?? new MemoryGroupStore(),
      {
        createInvite: async () => (await this.createInvite()).link,
        acceptInvite: (link) => this.acceptInvite(link),
        flush: () => this.flush(),
      },
      () => this.attachmentUploader(),
    );
    core.extensions.push(this.groups.handle);
    this.life = new MessageLife({
      internals: internalsOf(core),
      emitMessage: (m) => core.events.emit('message', m, core.listenerError),
      contactAdded: async (row) => {
        await core.rememberPigeonId(row.id);
        core.events.emit('contact', core.contactOf(row), core.listenerError);
      },
      setDeliveryTokens: async (add, remove) => {
        if (!core.auth || core.auth.state() !== 'connected') throw new ClientError('RELAY_UNREACHABLE', 'not connected');
        expectOk(await core.auth.request({ type: 'set_delivery_tokens', add, remove }), 'set_delivery_tokens');
      },
      ownToken: () => core.keys().identity.deliveryToken,
      setOwnToken: (token) => {
        const k = core.keys();
        const identity = { ...k.identity, deliveryToken: token };
        core.store.putIdentity(identity);
        core.identity = { ...k, identity };
        // Group newcomers may get an older card of us from their admin: from now on we send ours (groups/manager.ts).
        this.groups.noteOwnTokenChanged();
      },
      deliveryReceiptsOn: () => core.receiptSettings().deliveryReceipts,
      keyChangePending: (contactId) => core.keyChangePending(contactId),
      targetsFor: async (contactId) => [{ contactId, deviceIds: await this.devices.listedIds(contactId) }],
      ownSyncTargets: async () => {
        if (!this.devices.hasOtherOwnDevices()) return [];
        const own = core.keys().profile.accountId;
        return [{ contactId: own, deviceIds: await this.devices.listedIds(own) }];
      },
    });
    core.life = this.life;
    core.extensions.push(this.life.handle);
  }

  /** The groups feature; a platform entry returns one with its own file methods (index.node.ts). Runs in the constructor. */
  protected makeGroups(...args: ConstructorParameters<typeof GroupManager>): GroupManager {
    return new GroupManager(...args);
  }

  /** Builds a client over an already opened store (platform entries wrap this). */
  static async create(deps: ClientDeps): Promise<PigeonClient> {
    const client = new PigeonClient(deps);
    await client.load();
    return client;
  }

  /** Reads the identity (if any) from the store. Subclasses call it after construction. */
  protected async load(): Promise<void> {
    const core = this.#core;
    const identity = core.store.getIdentity();
    if (!identity) return;
    core.identity = await keysOf(core, identity);
    for (const c of core.store.listContacts()) await core.rememberPigeonId(c.id);
    await this.groups.load();
    this.life.start();
  }

  // ---- identity -----------------------------------------------------------------------------

  isInitialized(): boolean {
    this.#core.open();
    return this.#core.identity !== null;
  }

  profile(): Profile {
    return this.#core.keys().profile;
  }

  /**
   * Creates the account and device keys and prekeys, registers the device at the relay, uploads
   * the prekeys and a fresh delivery token, and only then stores the identity (a failed init
   * leaves the profile uninitialised, so it can simply be retried).
   */
  init(args: { relayUrl: string; displayName: string }): Promise<Profile> {
    return registerIdentity(this.#core, args);
  }

  // ---- invites and contacts -----------------------------------------------------------------

  /**
   * A one-time invite link. Connected, the link carries a delivery token of its own, so blocking
   * someone later does not break it; offline, it carries our account token (docs/message-life.md).
   */
  createInvite(): Promise<{ link: string }> {
    return createInvite(this.#core);
  }

  /**
   * Fetches the inviter's bundles (anonymously, with the token from the link), starts a session
   * with each of their devices, stores the contact and queues an introduction that carries our
   * name, token, relay and the invite secret.
   */
  acceptInvite(link: string, options: { name?: string } = {}): Promise<Contact> {
    return acceptInvite(this.#core, link, options);
  }

  contacts(): Contact[] {
    const core = this.#core;
    core.keys();
    return core.store.listContacts().map((r) => core.contactOf(r));
  }

  /** Matches a contact id (hex), a Pigeon ID, or a name (case-insensitive). */
  findContact(nameOrId: string): Contact {
    return findContact(this.#core, nameOrId);
  }

  renameContact(contactId: string, name: string): Contact {
    const core = this.#core;
    core.keys();
    const row = core.contactRow(contactId);
    const next = { ...row, name: checkName(name, 'contact name') };
    core.store.putContact(next);
    return core.contactOf(next);
  }

  async safetyNumber(contactId: string): Promise<SafetyNumber> {
    const core = this.#core;
    const k = core.keys();
    const row = core.contactRow(contactId);
    const sn = await computeSafetyNumber(core.crypto, { accountKey: k.account.signing.publicKey }, { accountKey: row.accountKey });
    return { digits: sn.digits, display: formatSafetyNumber(sn.digits), qrPayload: sn.qrPayload };
  }

  /**
   * Compares a safety-number QR code scanned from the contact's device with ours for them: true
   * when it names both our account keys. A payload that is not a safety-number code at all throws
   * the protocol's typed error (TRUNCATED, TRAILING_BYTES, UNKNOWN_VERSION).
   */
  async verifySafetyNumberQr(contactId: string, scanned: Uint8Array): Promise<boolean> {
    const core = this.#core;
    const k = core.keys();
    const row = core.contactRow(contactId);
    return verifySafetyNumberQr(core.crypto, { accountKey: k.account.signing.publicKey }, { accountKey: row.accountKey }, scanned);
  }

  /**
   * Marking a contact verified also acknowledges pending key changes: the user has just compared
   * the safety number, which is the stronger check.
   */
  setVerified(contactId: string, verified: boolean): void {
    const core = this.#core;
    core.keys();
    const row = core.contactRow(contactId);
    core.store.transaction(() => {
      core.store.putContact({ ...row, verified });
      if (verified) core.store.acknowledgeSafetyEvents(contactId);
    });
  }

  /** The contact's key-change history, oldest first. */
  safetyEvents(contactId: string): SafetyEvent[] {
    const core = this.#core;
    core.keys();
    core.contactRow(contactId);
    return core.store.listSafetyEvents(contactId).map((e) => ({ ...e }));
  }

  /** The user has seen the key change: sending to the contact is allowed again. */
  acknowledgeKeyChange(contactId: string): Contact {
    const core = this.#core;
    core.keys();
    core.contactRow(contactId);
    core.store.acknowledgeSafetyEvents(contactId);
    const contact = core.contactOf(core.contactRow(contactId));
    core.events.emit('contact', contact, core.listenerError);
    return contact;
  }

  // ---- transport state ----------------------------------------------------------------------

  /**
   * A key-value view of the store's state table limited to `transport.*` keys: where
   * @pigeon/transport keeps known routes and the last route that worked (RouteMemory).
   */
  transportState(): { get(key: string): string | undefined; set(key: string, value: string): void } {
    const store = this.#core.store;
    const check = (key: string) => {
      if (!key.startsWith(TRANSPORT_STATE_PREFIX)) throw new ClientError('BAD_ARGUMENT', 'transport state keys start with transport.');
    };
    return {
      get: (key) => {
        check(key);
        return store.getState(key);
      },
      set: (key, value) => {
        check(key);
        store.transaction(() => store.setState(key, value));
      },
    };
  }

  // ---- receipt settings ---------------------------------------------------------------------

  receiptSettings(): ReceiptSettings {
    this.#core.keys();
    return this.#core.receiptSettings();
  }

  setReceiptSettings(patch: Partial<ReceiptSettings>): ReceiptSettings {
    const core = this.#core;
    core.keys();
    for (const [k, v] of Object.entries(patch)) {
      if (v !== undefined && typeof v !== 'boolean') throw new ClientError('BAD_ARGUMENT', `${k} must be true or false`);
    }
    core.store.transaction(() => {
      if (patch.deliveryReceipts !== undefined) core.store.setState(DELIVERY_RECEIPTS_KEY, patch.deliveryReceipts ? 'on' : 'off');
      if (patch.readReceipts !== undefined) core.store.setState(READ_RECEIPTS_KEY, patch.readReceipts ? 'on' : 'off');
    });
    return this.receiptSettings();
  }

  // ---- messages -----------------------------------------------------------------------------

  /** Seals the message for every device of the contact and stores message + outbox in one transaction. */
  send(contactId: string, text: string): Promise<StoredMessage> {
    return sendText(this.#core, contactId, text);
  }

  messages(contactId: string, options: { limit?: number } = {}): StoredMessage[] {
    const core = this.#core;
    core.keys();
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
      throw new ClientError('BAD_ARGUMENT', 'limit must be a non-negative integer');
    }
    return core.store.listMessages(contactId, options.limit).map((m) => this.life.decorate(m));
  }

  unread(): StoredMessage[] {
    const core = this.#core;
    core.keys();
    // Messages held in a request (no contact yet) are not in the normal list.
    return core.store.listUnread().filter((m) => core.store.getContact(m.contactId) !== undefined).map((m) => this.life.decorate(m));
  }

  /**
   * Marks incoming messages read (at once: unread() no longer lists them) and, while read
   * receipts are on, queues one read receipt per contact (split at MAX_RECEIPT_IDS) for the ones
   * that were unread. The promise resolves when the receipts are in the outbox; it never rejects
   * for a receipt that could not be sealed (logged as receipt.failed).
   */
  markRead(messageIds: readonly string[]): Promise<void> {
    return markRead(this.#core, messageIds);
  }

  // ---- message life (docs/message-life.md; the work is in message-life/manager.ts) --------------

  /** Sends `text` as a reply quoting `messageId` (a message of the chat). */
  reply(messageId: string, text: string): Promise<StoredMessage> {
    return this.life.reply(messageId, text);
  }
  /** Sets our reaction on a message (null removes it). */
  react(messageId: string, emoji: string | null): Promise<StoredMessage> {
    return this.life.react(messageId, emoji);
  }
  /** Changes the text of one of our messages on every device of the chat. */
  edit(messageId: string, text: string): Promise<StoredMessage> {
    return this.life.edit(messageId, text);
  }
  /** Replaces one of our messages (sent within DELETE_WINDOW_MS) with a tombstone on every device. */
  deleteForEveryone(messageId: string): Promise<StoredMessage> {
    return this.life.deleteForEveryone(messageId);
  }
  /** The chat's disappearing-messages timer in ms (0 = off), set for both sides. */
  setDisappearingTimer(contactId: string, timerMs: number): Promise<number> {
    return this.life.setTimer(contactId, timerMs);
  }
  disappearingTimer(contactId: string): number {
    this.#core.keys();
    return this.life.timer(contactId);
  }
  /** Typing indicator to a contact (rate-limited; false when nothing was sent). */
  sendTyping(contactId: string, typing: boolean): Promise<boolean> {
    return this.life.typing(contactId, typing);
  }
  /** Drops the account's mail and rotates our delivery token away from it. */
  block(contactId: string): Promise<BlockResult> {
    return this.life.block(contactId);
  }
  unblock(contactId: string): Promise<void> {
    return this.life.unblock(contactId);
  }
  /** Records a local report (no server-side moderation exists) and blocks. */
  report(contactId: string, note?: string): Promise<BlockResult> {
    return this.life.report(contactId, note);
  }
  blockedContacts(): BlockedContact[] {
    return this.life.blocked();
  }
  /** Message requests: mail from unknown senders, held apart. */
  requests(): MessageRequest[] {
    return this.life.requests();
  }
  async acceptRequest(id: string, options: { name?: string } = {}): Promise<Contact> {
    return this.#core.contactOf(await this.life.acceptRequest(id, options));
  }
  rejectRequest(id: string, options: { block?: boolean } = {}): Promise<void> {
    return this.life.rejectRequest(id, options);
  }

  outboxSize(): number {
    this.#core.keys();
    return this.#core.store.countOutbox();
  }

  // ---- attachments (docs/attachments.md; file-based transfer is in the Node entry) -----------

  /**
   * Encrypts a Blob/File (anything with `size` and `slice().arrayBuffer()`) with a fresh key,
   * uploads it to our relay's blob store over fetch (resuming after dropped connections) and
   * sends the reference to every device of the contact. Works in browsers and in Node.
   */
  async sendAttachmentBlob(contact: string, blob: BlobLike, options: SendAttachmentBlobOptions = {}): Promise<StoredMessage> {
    const target = this.findContact(contact);
    if (target.keyChanged) throw new ClientError('IDENTITY_CHANGED', "this contact's keys changed; acknowledge the change before sending");
    const { reference } = await uploadBlobForMessage(this.attachmentUploader(), blob, options);
    return this.sendAttachmentReference(target.id, reference, options.caption ?? '');
  }

  /**
   * Downloads, verifies and decrypts a message's attachment into memory over fetch (ranged GETs,
   * resumed after dropped connections). ATTACHMENT_TOO_LARGE above `maxBytes` (default 256 MiB),
   * ATTACHMENT_TAMPERED if anything fails to verify, UNKNOWN_MESSAGE without an attachment.
   */
  downloadAttachmentBytes(messageId: string, options: DownloadAttachmentBytesOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
    return downloadBytesForMessage(this.#core.crypto, this.attachmentReference(messageId), options);
  }

  /**
   * Downloads, verifies and decrypts a message's attachment into `sink` over fetch, for files too
   * big to hold in memory (a browser passes a file in its origin-private file system). The sink
   * gets plaintext in order; when this rejects (ATTACHMENT_TAMPERED, RELAY_UNREACHABLE, ...) the
   * caller throws away what the sink got. UNKNOWN_MESSAGE without an attachment.
   */
  downloadAttachmentTo(messageId: string, sink: AttachmentSink, options: DownloadAttachmentToOptions = {}): Promise<void> {
    return downloadForMessageTo(this.#core.crypto, this.attachmentReference(messageId), sink, options);
  }

  /** Name, type and size of a message's attachment; undefined when it has none. */
  attachment(messageId: string): AttachmentInfo | undefined {
    this.#core.keys();
    const ref = loadReference(this.#core.store, messageId);
    return ref && infoOf(ref);
  }

  /** The full reference (with its key) for a platform entry's download. */
  protected attachmentReference(messageId: string): AttachmentReference | undefined {
    this.#core.keys();
    return loadReference(this.#core.store, messageId);
  }

  /** What a platform entry needs to upload: the crypto backend, our relay, and a blob-create signer. */
  protected attachmentUploader(): { crypto: CryptoBackend; relayUrl: string; deviceId: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> } {
    const k = this.#core.keys();
    const crypto = this.#core.crypto;
    return { crypto, relayUrl: k.identity.relayUrl, deviceId: fromHex(k.profile.deviceId), sign: (message) => crypto.ed25519Sign(k.device.signing.secretKey, message) };
  }

  /** Seals an already uploaded attachment's reference to every device of the contact (like send). */
  protected sendAttachmentReference(contactId: string, attachment: AttachmentReference, caption = ''): Promise<StoredMessage> {
    return sendAttachmentReference(this.#core, contactId, attachment, caption);
  }

  // ---- connection ---------------------------------------------------------------------------

  connectionState(): ConnectionState {
    return this.#core.auth?.state() ?? 'offline';
  }

  /** Starts both connections (kept up with backoff until close) and waits for the authenticated one. */
  async connect(options: { timeoutMs?: number } = {}): Promise<void> {
    const core = this.#core;
    const k = core.keys();
    core.wantOnline = true;
    const auth = startAuth(core);
    anonConnection(core, k.identity.relayUrl);
    pumpOutbox(core);
    await auth.waitConnected(options.timeoutMs ?? core.connectTimeoutMs);
  }

  /**
   * Prekey upkeep now: replaces the signed prekey pair when SIGNED_PREKEY_ROTATE_MS has passed,
   * forgets replaced ones after RETIRED_PREKEY_KEEP_MS, tops up one-time prekeys. It also runs by
   * itself on every connect and every PREKEY_CHECK_INTERVAL_MS; needs the relay connection.
   */
  maintainPreKeys(): Promise<void> {
    this.#core.keys();
    return topUpPreKeys(this.#core);
  }

  /** Resolves when the outbox is empty (every envelope acknowledged by its relay). */
  flush(timeoutMs = this.#core.connectTimeoutMs): Promise<void> {
    const core = this.#core;
    core.keys();
    if (core.store.countOutbox() === 0) return Promise.resolve();
    // Asking for a flush is asking to send: dial the relays the queued envelopes go to.
    core.wantOnline = true;
    pumpOutbox(core);
    return this.waitFor('outbox', () => core.store.countOutbox() === 0, timeoutMs, () => {
      const n = core.store.countOutbox();
      const connected = [...core.anon.values()].some((c) => c.state() === 'connected');
      return connected
        ? new ClientError('TIMEOUT', `${n} message(s) still waiting for the relay`)
        : new ClientError('RELAY_UNREACHABLE', `the relay is unreachable; ${n} message(s) stay queued`);
    });
  }

  /** Resolves when the relay's backlog for this device has been received and processed. */
  sync(timeoutMs = this.#core.connectTimeoutMs): Promise<void> {
    const core = this.#core;
    core.keys();
    if (!core.auth) return Promise.reject(new ClientError('RELAY_UNREACHABLE', 'not connected (call connect first)'));
    return this.waitFor('drained', () => core.drained, timeoutMs, () =>
      this.connectionState() === 'connected'
        ? new ClientError('TIMEOUT', 'the relay did not finish sending the backlog in time')
        : new ClientError('RELAY_UNREACHABLE', 'the relay is unreachable'),
    );
  }

  private waitFor(event: 'outbox' | 'drained', done: () => boolean, timeoutMs: number, onTimeout: () => ClientError): Promise<void> {
    const core = this.#core;
    return new Promise<void>((resolve, reject) => {
      let offEvent = (): void => undefined;
      let offClosed = (): void => undefined;
      const finish = (err?: Error) => {
        clearTimeout(timer);
        offEvent();
        offClosed();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(onTimeout()), timeoutMs);
      offEvent = core.events.on(event, () => {
        if (core.closed) finish(new ClientError('CLOSED', 'the client was closed'));
        else if (done()) finish();
      });
      offClosed = core.events.on('connection', () => {
        if (core.closed) finish(new ClientError('CLOSED', 'the client was closed'));
      });
      if (done()) finish();
    });
  }

  on(event: 'message', fn: (m: StoredMessage) => void): () => void;
  on(event: 'status', fn: (m: StoredMessage) => void): () => void;
  on(event: 'contact', fn: (c: Contact) => void): () => void;
  on(event: 'connection', fn: (s: ConnectionState) => void): () => void;
  on(event: 'safety', fn: (e: SafetyEvent) => void): () => void;
  on(event: 'update', fn: (u: MessageUpdate) => void): () => void;
  on(event: 'typing', fn: (t: TypingEvent) => void): () => void;
  on(event: 'request', fn: (r: MessageRequest) => void): () => void;
  on(event: 'message' | 'status' | 'contact' | 'connection' | 'safety' | 'update' | 'typing' | 'request', fn: (value: never) => void): () => void {
    if (event === 'update' || event === 'typing' || event === 'request') return this.life.on(event, fn as (value: unknown) => void);
    return this.#core.events.on(event, fn as (value: unknown) => void);
  }

  async close(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    if (core.sending.retryTimer) clearTimeout(core.sending.retryTimer);
    if (core.acks.timer) clearTimeout(core.acks.timer);
    if (core.preKeyTimer) clearInterval(core.preKeyTimer);
    this.life.close();
    core.auth?.stop();
    for (const c of core.anon.values()) c.stop();
    core.events.emit('outbox', 0);
    core.events.emit('drained', false);
    core.events.emit('connection', 'offline');
    await core.serial.idle();
    core.events.clear();
    core.store.close();
  }

  /** Never lets key material out through JSON.stringify. */
  toJSON(): unknown {
    return { type: 'PigeonClient', profile: this.#core.identity?.profile ?? null, closed: this.#core.closed };
  }

  [INSPECT](): unknown {
    return this.toJSON();
  }
}
