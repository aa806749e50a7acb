/**
 * PigeonClient: the platform-neutral SDK core. The Node entry (index.node.ts) adds `open()`
 * with SQLite and `ws`; a browser entry will add its own store and socket.
 *
 * Invariants (docs: client API, "Receiving" / "Sending"):
 * - Every ratchet read-modify-write runs in `this.serial`, and its result is committed in ONE
 *   store transaction together with what it produced (message, outbox rows, consumed prekeys).
 * - Incoming mail is acked to the relay only after that commit; a redelivery after a crash is
 *   recognised (DUPLICATE_MESSAGE / seen content id) and only acked again.
 * - Outgoing envelopes are sealed once, stored with a random relay messageId, and resent as the
 *   same bytes until the relay acks them, so the relay can deduplicate.
 * - Sends and bundle fetches use an anonymous connection (sealed sender); the authenticated
 *   connection only receives.
 */
import { MAX_ACK_IDS, RelayError } from '@pigeon/api';
import type { ChallengeFrame, RelayFrame } from '@pigeon/api';
import { equalBytes, fromHex, toHex, utf8 } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  ProtocolError,
  accountIdOf,
  authMessage,
  computeSafetyNumber,
  createAccountKeys,
  createDeviceKeys,
  decodeAccountKeys,
  decodeDeviceCertificate,
  decodeDeviceKeys,
  decodeKemPreKey,
  decodeOneTimePreKey,
  decodePreKeyBundle,
  decodeSessionRecord,
  decodeSignedPreKey,
  deviceIdOf,
  encodeAccountKeys,
  encodeDeviceCertificate,
  encodeDeviceKeys,
  encodeKemPreKey,
  encodeOneTimePreKey,
  encodeSessionRecord,
  encodeSignedPreKey,
  formatPigeonId,
  formatSafetyNumber,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  hasActiveSession,
  initiateSession,
  openSealedMessage,
  sealMessage,
  sessionDecrypt,
  sessionEncrypt,
} from '@pigeon/protocol';
import type { AccountKeys, DeviceCertificate, DeviceKeys, KemPreKeyPair, PreKeyStore, SessionRecord } from '@pigeon/protocol';
import { decodeContent, encodeContent } from './content.js';
import { describeAttachment, infoOf, loadReference, storeReference } from './attachments/messages.js';
import type { AttachmentInfo, AttachmentReference } from './attachments/reference.js';
import type { Content } from './content.js';
import { Emitter } from './emitter.js';
import { DeviceManager } from './devices/manager.js';
import { linkedAccountKey } from './devices/payload.js';
import { GroupManager } from './groups/manager.js';
import { MessageLife } from './message-life/manager.js';
import type { BlockResult, BlockedContact, MessageRequest, MessageUpdate, TypingEvent } from './message-life/types.js';
import { MemoryGroupStore } from './groups/store.js';
import type { GroupStore } from './groups/store.js';
import type { ClientInternals, ContactCard, ExtensionHandler, ExtensionResult, SendOutcome, SendTarget } from './internals.js';
import { ClientError } from './errors.js';
import { decodeInviteLink, encodeInviteLink } from './invite-link.js';
import {
  CONTENT_ID_BYTES,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DELIVERY_TOKEN_BYTES,
  INVITE_SECRET_BYTES,
  INVITE_TTL_MS,
  MAX_NAME_BYTES,
  MAX_RECEIPT_IDS,
  MAX_TEXT_BYTES,
  PREKEY_BATCH,
  PREKEY_LOW_WATER,
} from './limits.js';
import { normalizeRelayUrl } from './relay-url.js';
import { SerialQueue } from './serial.js';
import type { ClientStore, ContactRow, IdentityRow, MessageRow, OutboxRow, SafetyEventRow } from './store/types.js';
import { RelayConnection } from './transport/relay-connection.js';
import type { ConnectionTuning, PushFrame } from './transport/relay-connection.js';
import type { SocketFactory } from './transport/socket.js';
import type { ConnectionState, Contact, Logger, Profile, ReceiptSettings, SafetyEvent, SafetyNumber, StoredMessage } from './types.js';

/** Relay errors after which resending the same envelope can never succeed. */
const PERMANENT_SEND_ERRORS = new Set(['UNKNOWN_RECIPIENT', 'BAD_DELIVERY_TOKEN', 'BAD_FRAME', 'FRAME_TOO_LARGE', 'LIMIT_EXCEEDED']);
/** Outbox entries on the wire at once per pump. */
export const MAX_SENDS_IN_FLIGHT = 32;
/** Wait before retrying a send that failed for a transient reason (the relay may say longer). */
export const SEND_RETRY_MS = 2_000;
const ONE_TIME_ID_KEY = 'next_one_time_prekey_id';
const KEM_ID_KEY = 'next_kem_prekey_id';
/** Receipt settings live in the store's state table ('on' | 'off'; missing = on). */
export const DELIVERY_RECEIPTS_KEY = 'settings.delivery_receipts';
export const READ_RECEIPTS_KEY = 'settings.read_receipts';
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

interface ClientEvents extends Record<string, unknown> {
  message: StoredMessage;
  status: StoredMessage;
  contact: Contact;
  safety: SafetyEvent;
  connection: ConnectionState;
  outbox: number;
  drained: boolean;
}

interface Keys {
  /** On a linked device only the public key is real: the account secret stays on the first device (hasAccountSecret). */
  readonly account: AccountKeys;
  readonly hasAccountSecret: boolean;
  readonly device: DeviceKeys;
  readonly identity: IdentityRow;
  readonly profile: Profile;
}

interface SealedFor {
  readonly rows: OutboxRow[];
  readonly sessions: { deviceId: string; record: SessionRecord }[];
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function toContact(row: ContactRow, pigeonId: string, keyChanged: boolean): Contact {
  return { id: row.id, name: row.name, pigeonId, relayUrl: row.relayUrl, verified: row.verified, addedAt: row.addedAt, keyChanged };
}

/** How far along each state is; receipts only ever move a message forward. */
const STATE_RANK: Record<StoredMessage['state'], number> = { failed: 0, queued: 0, sent: 1, delivered: 2, read: 3 };

function toStored(row: MessageRow): StoredMessage {
  return { ...row };
}

function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new ClientError('BAD_ARGUMENT', `${what} must not be empty`);
  if (utf8.encode(trimmed).length > MAX_NAME_BYTES) throw new ClientError('BAD_ARGUMENT', `${what} is longer than ${MAX_NAME_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new ClientError('BAD_ARGUMENT', `${what} contains control characters`);
  return trimmed;
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
}

/** Maps transport/relay failures to the client's error model. */
function asClientError(err: unknown, what: string): Error {
  if (err instanceof ClientError) return err;
  if (err instanceof RelayError) return new ClientError('RELAY_REJECTED', `the relay refused ${what}: ${err.code}`, { cause: err });
  if (err instanceof ProtocolError) return new ClientError('RELAY_REJECTED', `invalid data from the relay during ${what}: ${err.code}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

export class PigeonClient {
  readonly #store: ClientStore;
  readonly #crypto: CryptoBackend;
  readonly #socketFactory: SocketFactory;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #tuning: ConnectionTuning;
  readonly #connectTimeoutMs: number;
  #keys: Keys | null = null;
  #closed = false;
  #wantOnline = false;
  #auth: RelayConnection | null = null;
  readonly #anon = new Map<string, RelayConnection>();
  readonly #serial = new SerialQueue();
  readonly #events = new Emitter<ClientEvents>();
  readonly #inFlight = new Set<string>();
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #drained = false;
  #topUpRunning = false;
  readonly #pigeonIds = new Map<string, string>();
  /** Messages with at least one envelope accepted by a relay while others are still in flight. */
  readonly #acceptedSome = new Set<string>();
  /** Feature modules that own content types (groups/, devices/): asked first on receive. */
  readonly #extensions: ExtensionHandler[] = [];
  /** Groups (docs/protocol.md §12): create, change, send, receive; events on groups.on(...). */
  readonly groups: GroupManager;
  /** Message life (docs/message-life.md): replies, reactions, edits, deletes, timers, typing, blocks, requests. */
  readonly life: MessageLife;
  /** Relay ids of committed deliveries waiting to be acked (sent in batches on the next tick). */
  #pendingAcks: Uint8Array[] = [];
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  /** Linked devices (docs/protocol.md §13): link, list, remove; signed device lists of contacts. */
  readonly devices: DeviceManager;

  constructor(deps: ClientDeps) {
    this.#store = deps.store;
    this.#crypto = deps.crypto;
    this.#socketFactory = deps.socketFactory;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger ?? (() => undefined);
    this.#tuning = deps.connection ?? {};
    this.#connectTimeoutMs = deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.devices = new DeviceManager(this.internals(), {
      authRequest: async (frame) => {
        if (!this.#auth) await this.connect();
        await this.#auth!.waitConnected(this.#connectTimeoutMs);
        return this.#auth!.request(frame);
      },
      anonRequest: async (url, frame) => {
        const conn = this.anon(url);
        await conn.waitConnected(this.#connectTimeoutMs);
        return conn.request(frame);
      },
      adoptIdentity: async (identity, write) => {
        this.open();
        if (this.#keys) throw new ClientError('ALREADY_INITIALIZED', 'this profile already has an identity');
        this.#store.transaction(() => {
          this.#store.putIdentity(identity);
          write();
        });
        await this.load();
        return this.#keys!.profile;
      },
      socketFactory: this.#socketFactory,
      tuning: this.#tuning,
      connectTimeoutMs: this.#connectTimeoutMs,
      onOwnDevicesChanged: () => this.groups.syncOwnDevices(),
      isInitialized: () => this.#keys !== null,
      emitMessage: (row) => this.#events.emit('message', toStored(row), this.listenerError),
    });
    this.#extensions.push(this.devices.handle);
    // Contacts added on this device become contacts of our other devices too (they receive from them).
    this.#events.on('contact', (c) => this.devices.shareContact(c.id));
    this.groups = new GroupManager(this.internals(), deps.groupStore ?? new MemoryGroupStore(), {
      createInvite: async () => (await this.createInvite()).link,
      acceptInvite: (link) => this.acceptInvite(link),
      flush: () => this.flush(),
    });
    this.#extensions.push(this.groups.handle);
    this.life = new MessageLife({
      internals: this.internals(),
      emitMessage: (m) => this.#events.emit('message', m, this.listenerError),
      contactAdded: async (row) => {
        await this.rememberPigeonId(row.id);
        this.#events.emit('contact', this.contactOf(row), this.listenerError);
      },
      setDeliveryTokens: async (add, remove) => {
        if (!this.#auth || this.#auth.state() !== 'connected') throw new ClientError('RELAY_UNREACHABLE', 'not connected');
        expectOk(await this.#auth.request({ type: 'set_delivery_tokens', add, remove }), 'set_delivery_tokens');
      },
      ownToken: () => this.keys().identity.deliveryToken,
      setOwnToken: (token) => {
        const k = this.keys();
        const identity = { ...k.identity, deliveryToken: token };
        this.#store.putIdentity(identity);
        this.#keys = { ...k, identity };
      },
      deliveryReceiptsOn: () => this.storedReceiptSettings().deliveryReceipts,
      keyChangePending: (contactId) => this.keyChangePending(contactId),
      targetsFor: async (contactId) => [{ contactId, deviceIds: await this.devices.listedIds(contactId) }],
      ownSyncTargets: async () => {
        if (!this.devices.hasOtherOwnDevices()) return [];
        const own = this.keys().profile.accountId;
        return [{ contactId: own, deviceIds: await this.devices.listedIds(own) }];
      },
    });
    this.#extensions.push(this.life.handle);
  }

  /** Builds a client over an already opened store (platform entries wrap this). */
  static async create(deps: ClientDeps): Promise<PigeonClient> {
    const client = new PigeonClient(deps);
    await client.load();
    return client;
  }

  /** Reads the identity (if any) from the store. Subclasses call it after construction. */
  protected async load(): Promise<void> {
    const identity = this.#store.getIdentity();
    if (!identity) return;
    // A linked device stores only the account's public key (devices/payload.ts); its empty secret never signs.
    const linked = linkedAccountKey(identity.accountKeys);
    const account: AccountKeys = linked ? { signing: { publicKey: linked, secretKey: new Uint8Array(0) } } : decodeAccountKeys(identity.accountKeys);
    const device = decodeDeviceKeys(identity.deviceKeys);
    this.#keys = await this.makeKeys(account, device, identity, linked === null);
    for (const c of this.#store.listContacts()) await this.rememberPigeonId(c.id);
    await this.groups.load();
    this.life.start();
  }

  private async makeKeys(account: AccountKeys, device: DeviceKeys, identity: IdentityRow, hasAccountSecret = true): Promise<Keys> {
    const accountId = await accountIdOf(this.#crypto, account.signing.publicKey);
    const deviceId = await deviceIdOf(this.#crypto, device.signing.publicKey);
    const profile: Profile = {
      pigeonId: formatPigeonId(accountId),
      displayName: identity.displayName,
      relayUrl: identity.relayUrl,
      accountId: toHex(accountId),
      deviceId: toHex(deviceId),
    };
    return { account, hasAccountSecret, device, identity, profile };
  }

  private async rememberPigeonId(contactId: string): Promise<void> {
    if (!this.#pigeonIds.has(contactId)) this.#pigeonIds.set(contactId, formatPigeonId(fromHex(contactId)));
  }

  // ---- guards -------------------------------------------------------------------------------

  private open(): void {
    if (this.#closed) throw new ClientError('CLOSED', 'the client is closed');
  }

  private keys(): Keys {
    this.open();
    if (!this.#keys) throw new ClientError('NOT_INITIALIZED', 'this profile has no identity yet (run init first)');
    return this.#keys;
  }

  private contactRow(contactId: string): ContactRow {
    const row = this.#store.getContact(contactId);
    if (!row) throw new ClientError('UNKNOWN_CONTACT', 'no such contact');
    return row;
  }

  private contactOf(row: ContactRow): Contact {
    return toContact(row, this.#pigeonIds.get(row.id) ?? formatPigeonId(fromHex(row.id)), this.keyChangePending(row.id));
  }

  private keyChangePending(contactId: string): boolean {
    return this.#store.listSafetyEvents(contactId).some((e) => !e.acknowledged);
  }

  /**
   * Key-change detection (DESIGN: "a key change blocks sending until the user acknowledges it").
   * A contact IS its account key, so what can change under a known contact is its device set: a
   * device certificate whose device (signing key) or X25519 identity key we have not seen before.
   * The first devices we learn for a contact are not a change. Records the event, drops the
   * verified mark. Must run inside a store transaction, BEFORE the device row is stored.
   */
  private noteDevice(contactId: string, deviceId: string, certificate: DeviceCertificate): SafetyEventRow | null {
    // A device the contact's account-signed list names is vouched for by the account key itself (docs/protocol.md §13.1).
    if (this.devices.heldList(contactId) !== null && this.devices.isListed(contactId, certificate)) return null;
    const known = this.#store.listContactDevices(contactId);
    if (known.length === 0) return null;
    const same = known.find((d) => d.deviceId === deviceId);
    if (same && equalBytes(decodeDeviceCertificate(same.certificate).deviceIdentityKey, certificate.deviceIdentityKey)) return null;
    const event: SafetyEventRow = {
      id: toHex(this.#crypto.randomBytes(16)),
      contactId,
      kind: 'key_changed',
      deviceId,
      at: this.#now(),
      acknowledged: false,
    };
    this.#store.addSafetyEvent(event);
    const row = this.#store.getContact(contactId);
    if (row?.verified) this.#store.putContact({ ...row, verified: false });
    return event;
  }

  /** After the commit that recorded them: tell listeners. */
  private emitKeyChanges(events: readonly SafetyEventRow[]): void {
    for (const e of events) {
      this.#log('contact.key_changed');
      this.#events.emit('safety', { ...e }, this.listenerError);
      const row = this.#store.getContact(e.contactId);
      if (row) this.#events.emit('contact', this.contactOf(row), this.listenerError);
    }
  }

  // ---- identity -----------------------------------------------------------------------------

  isInitialized(): boolean {
    this.open();
    return this.#keys !== null;
  }

  profile(): Profile {
    return this.keys().profile;
  }

  /**
   * Creates the account and device keys and prekeys, registers the device at the relay, uploads
   * the prekeys and a fresh delivery token, and only then stores the identity (a failed init
   * leaves the profile uninitialised, so it can simply be retried).
   */
  async init(args: { relayUrl: string; displayName: string }): Promise<Profile> {
    this.open();
    if (this.#keys) throw new ClientError('ALREADY_INITIALIZED', 'this profile already has an identity');
    const relayUrl = normalizeRelayUrl(args.relayUrl);
    const displayName = checkName(args.displayName, 'display name');
    const c = this.#crypto;
    const now = this.#now();
    const account = await createAccountKeys(c);
    const device = await createDeviceKeys(c, account, now);
    const signed = await generateSignedPreKey(c, device, 1, now);
    const oneTime = await generateOneTimePreKeys(c, 1, PREKEY_BATCH);
    const kems: KemPreKeyPair[] = [];
    for (let id = 1; id <= PREKEY_BATCH; id++) kems.push(await generateKemPreKey(c, device, id, false, now));
    const lastResort = await generateKemPreKey(c, device, PREKEY_BATCH + 1, true, now);
    const deliveryToken = c.randomBytes(DELIVERY_TOKEN_BYTES);

    const conn = new RelayConnection({
      ...this.#tuning,
      url: relayUrl,
      label: 'register',
      socketFactory: this.#socketFactory,
      logger: this.#log,
      handshake: async (cx, challenge) => {
        const signature = await c.ed25519Sign(device.signing.secretKey, authMessage(challenge.nonce));
        expectOk(await cx.request({ type: 'register', certificate: encodeDeviceCertificate(device.certificate), signature }), 'register');
        expectOk(
          await cx.request({
            type: 'upload_prekeys',
            signedPreKey: { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature },
            kemLastResortPreKey: { id: lastResort.id, publicKey: lastResort.keyPair.publicKey, signature: lastResort.signature },
            oneTimePreKeys: oneTime.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey })),
            kemOneTimePreKeys: kems.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature })),
          }),
          'upload_prekeys',
        );
        expectOk(await cx.request({ type: 'set_delivery_tokens', add: [deliveryToken], remove: [] }), 'set_delivery_tokens');
      },
    });
    conn.start();
    try {
      await conn.waitConnected(this.#connectTimeoutMs);
    } catch (err) {
      throw asClientError(err, 'registration');
    } finally {
      conn.stop();
    }

    const identity: IdentityRow = {
      accountKeys: encodeAccountKeys(account),
      deviceKeys: encodeDeviceKeys(device),
      displayName,
      relayUrl,
      deliveryToken,
      createdAt: now,
    };
    this.#store.transaction(() => {
      this.#store.putIdentity(identity);
      this.#store.putPreKey('signed', signed.id, encodeSignedPreKey(signed));
      for (const k of oneTime) this.#store.putPreKey('one_time', k.id, encodeOneTimePreKey(k));
      for (const k of kems) this.#store.putPreKey('kem', k.id, encodeKemPreKey(k));
      this.#store.putPreKey('kem', lastResort.id, encodeKemPreKey(lastResort));
      this.#store.setState(ONE_TIME_ID_KEY, String(PREKEY_BATCH + 1));
      this.#store.setState(KEM_ID_KEY, String(PREKEY_BATCH + 2));
    });
    this.#keys = await this.makeKeys(account, device, identity);
    this.#log('client.initialized');
    return this.#keys.profile;
  }

  // ---- invites and contacts -----------------------------------------------------------------

  async createInvite(): Promise<{ link: string }> {
    const k = this.keys();
    const secret = this.#crypto.randomBytes(INVITE_SECRET_BYTES);
    this.#store.putInvite(toHex(secret), this.#now());
    const link = encodeInviteLink({
      relayUrl: k.identity.relayUrl,
      accountKey: k.account.signing.publicKey,
      deliveryToken: k.identity.deliveryToken,
      displayName: k.identity.displayName,
      inviteSecret: secret,
    });
    return { link };
  }

  /**
   * Fetches the inviter's bundles (anonymously, with the token from the link), starts a session
   * with each of their devices, stores the contact and queues an introduction that carries our
   * name, token, relay and the invite secret.
   */
  async acceptInvite(link: string, options: { name?: string } = {}): Promise<Contact> {
    const k = this.keys();
    const invite = decodeInviteLink(link);
    if (equalBytes(invite.accountKey, k.account.signing.publicKey)) throw new ClientError('BAD_LINK', 'this is your own invite link');
    const name = options.name !== undefined ? checkName(options.name, 'contact name') : checkName(invite.displayName || 'contact', 'contact name');
    const contactId = toHex(await accountIdOf(this.#crypto, invite.accountKey));
    return this.#serial.run(async () => {
      this.open();
      const bundles = await this.fetchBundles(invite.relayUrl, fromHex(contactId), invite.deliveryToken, invite.accountKey);
      const existing = this.#store.getContact(contactId);
      const row: ContactRow = {
        id: contactId,
        name: options.name !== undefined || !existing ? name : existing.name,
        accountKey: invite.accountKey,
        relayUrl: invite.relayUrl,
        deliveryToken: invite.deliveryToken,
        verified: existing?.verified ?? false,
        addedAt: existing?.addedAt ?? this.#now(),
      };
      const devices: { deviceId: string; certificate: DeviceCertificate; record: SessionRecord }[] = [];
      for (const bytes of bundles) {
        try {
          const bundle = decodePreKeyBundle(bytes);
          if (!equalBytes(bundle.certificate.accountKey, invite.accountKey)) continue;
          const deviceId = toHex(await deviceIdOf(this.#crypto, bundle.certificate.deviceSigningKey));
          const stored = this.#store.getSession(deviceId);
          const record = await initiateSession(this.#crypto, k.device, stored ? decodeSessionRecord(stored) : undefined, bundle, this.#now());
          devices.push({ deviceId, certificate: bundle.certificate, record });
        } catch (err) {
          this.#log('invite.bad_bundle', { code: errorCode(err) });
        }
      }
      if (devices.length === 0) throw new ClientError('RELAY_REJECTED', 'the relay returned no usable key bundle for this contact');
      const intro: Content = {
        type: 'introduction',
        id: this.#crypto.randomBytes(CONTENT_ID_BYTES),
        sentAt: this.#now(),
        displayName: k.identity.displayName,
        deliveryToken: k.identity.deliveryToken,
        relayUrl: k.identity.relayUrl,
        inviteSecret: invite.inviteSecret,
      };
      const plaintext = encodeContent(intro);
      const sealed: SealedFor = { rows: [], sessions: [] };
      for (const d of devices) {
        const out = await this.sealToDevice(row, d.deviceId, d.certificate, d.record, plaintext, null);
        sealed.rows.push(out.row);
        sealed.sessions.push({ deviceId: d.deviceId, record: out.record });
      }
      const changes: SafetyEventRow[] = [];
      this.#store.transaction(() => {
        this.#store.putContact(row);
        for (const d of devices) {
          const change = existing ? this.noteDevice(contactId, d.deviceId, d.certificate) : null;
          if (change) changes.push(change);
          this.#store.putContactDevice({ contactId, deviceId: d.deviceId, certificate: encodeDeviceCertificate(d.certificate) });
        }
        this.commitSealed(contactId, sealed);
      });
      this.emitKeyChanges(changes);
      await this.rememberPigeonId(contactId);
      this.#log('invite.accepted', { devices: devices.length });
      this.pumpOutbox();
      return this.contactOf(this.#store.getContact(contactId) ?? row);
    });
  }

  contacts(): Contact[] {
    this.keys();
    return this.#store.listContacts().map((r) => this.contactOf(r));
  }

  /** Matches a contact id (hex), a Pigeon ID, or a name (case-insensitive). */
  findContact(nameOrId: string): Contact {
    this.keys();
    const query = nameOrId.trim();
    if (query.length === 0) throw new ClientError('UNKNOWN_CONTACT', 'no contact name given');
    const all = this.#store.listContacts();
    const byId = all.find((c) => c.id === query.toLowerCase());
    if (byId) return this.contactOf(byId);
    const squash = (s: string) => s.replace(/[\s-]/g, '').toLowerCase();
    const byPigeonId = all.filter((c) => squash(this.contactOf(c).pigeonId) === squash(query));
    if (byPigeonId.length === 1) return this.contactOf(byPigeonId[0]!);
    const byName = all.filter((c) => c.name.toLowerCase() === query.toLowerCase());
    if (byName.length === 1) return this.contactOf(byName[0]!);
    if (byName.length > 1) throw new ClientError('AMBIGUOUS_CONTACT', `more than one contact is called "${query}"; use the Pigeon ID`);
    throw new ClientError('UNKNOWN_CONTACT', `no contact called "${query}"`);
  }

  renameContact(contactId: string, name: string): Contact {
    this.keys();
    const row = this.contactRow(contactId);
    const next = { ...row, name: checkName(name, 'contact name') };
    this.#store.putContact(next);
    return this.contactOf(next);
  }

  async safetyNumber(contactId: string): Promise<SafetyNumber> {
    const k = this.keys();
    const row = this.contactRow(contactId);
    const sn = await computeSafetyNumber(this.#crypto, { accountKey: k.account.signing.publicKey }, { accountKey: row.accountKey });
    return { digits: sn.digits, display: formatSafetyNumber(sn.digits), qrPayload: sn.qrPayload };
  }

  /**
   * Marking a contact verified also acknowledges pending key changes: the user has just compared
   * the safety number, which is the stronger check.
   */
  setVerified(contactId: string, verified: boolean): void {
    this.keys();
    const row = this.contactRow(contactId);
    this.#store.transaction(() => {
      this.#store.putContact({ ...row, verified });
      if (verified) this.#store.acknowledgeSafetyEvents(contactId);
    });
  }

  /** The contact's key-change history, oldest first. */
  safetyEvents(contactId: string): SafetyEvent[] {
    this.keys();
    this.contactRow(contactId);
    return this.#store.listSafetyEvents(contactId).map((e) => ({ ...e }));
  }

  /** The user has seen the key change: sending to the contact is allowed again. */
  acknowledgeKeyChange(contactId: string): Contact {
    this.keys();
    this.contactRow(contactId);
    this.#store.acknowledgeSafetyEvents(contactId);
    const contact = this.contactOf(this.contactRow(contactId));
    this.#events.emit('contact', contact, this.listenerError);
    return contact;
  }

  private refuseIfKeyChanged(contactId: string): void {
    if (this.keyChangePending(contactId)) {
      throw new ClientError('IDENTITY_CHANGED', 'this contact\'s keys changed; acknowledge the change before sending');
    }
  }

  // ---- transport state ----------------------------------------------------------------------

  /**
   * A key-value view of the store's state table limited to `transport.*` keys: where
   * @pigeon/transport keeps known routes and the last route that worked (RouteMemory).
   */
  transportState(): { get(key: string): string | undefined; set(key: string, value: string): void } {
    const check = (key: string) => {
      if (!key.startsWith(TRANSPORT_STATE_PREFIX)) throw new ClientError('BAD_ARGUMENT', 'transport state keys start with transport.');
    };
    return {
      get: (key) => {
        check(key);
        return this.#store.getState(key);
      },
      set: (key, value) => {
        check(key);
        this.#store.transaction(() => this.#store.setState(key, value));
      },
    };
  }

  // ---- receipt settings ---------------------------------------------------------------------

  receiptSettings(): ReceiptSettings {
    this.keys();
    return this.storedReceiptSettings();
  }

  /** Without the open/closed guard: used while a receive in flight finishes during close(). */
  private storedReceiptSettings(): ReceiptSettings {
    return {
      deliveryReceipts: this.#store.getState(DELIVERY_RECEIPTS_KEY) !== 'off',
      readReceipts: this.#store.getState(READ_RECEIPTS_KEY) !== 'off',
    };
  }

  setReceiptSettings(patch: Partial<ReceiptSettings>): ReceiptSettings {
    this.keys();
    for (const [k, v] of Object.entries(patch)) {
      if (v !== undefined && typeof v !== 'boolean') throw new ClientError('BAD_ARGUMENT', `${k} must be true or false`);
    }
    this.#store.transaction(() => {
      if (patch.deliveryReceipts !== undefined) this.#store.setState(DELIVERY_RECEIPTS_KEY, patch.deliveryReceipts ? 'on' : 'off');
      if (patch.readReceipts !== undefined) this.#store.setState(READ_RECEIPTS_KEY, patch.readReceipts ? 'on' : 'off');
    });
    return this.receiptSettings();
  }

  // ---- messages -----------------------------------------------------------------------------

  /** Seals the message for every device of the contact and stores message + outbox in one transaction. */
  async send(contactId: string, text: string): Promise<StoredMessage> {
    this.keys();
    const contact = this.#store.getContact(contactId) ?? this.contactRow(this.findContact(contactId).id);
    if (text.length === 0) throw new ClientError('BAD_ARGUMENT', 'message is empty');
    if (utf8.encode(text).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `message is longer than ${MAX_TEXT_BYTES} bytes`);
    this.refuseIfKeyChanged(contact.id);
    return this.#serial.run(async () => {
      this.open();
      this.refuseIfKeyChanged(contact.id);
      const id = this.#crypto.randomBytes(CONTENT_ID_BYTES);
      const sentAt = this.#now();
      // With a disappearing timer on, the text carries it (message-life/manager.ts).
      const { content, commit: commitLife } = this.life.outgoingText(contact.id, id, sentAt, text);
      this.life.noteSent(contact.id);
      const sealed = await this.sealForContact(contact, content, toHex(id));
      // Our other devices see what we sent (sent-message sync, devices/payload.ts).
      const synced = await this.sealOwnSync(contact.id, content);
      // Fetching bundles while sealing may just have revealed a new device: nothing is committed then.
      this.refuseIfKeyChanged(contact.id);
      const message: MessageRow = {
        id: toHex(id),
        contactId: contact.id,
        direction: 'out',
        text,
        sentAt,
        receivedAt: null,
        state: 'queued',
        read: true,
      };
      this.#store.transaction(() => {
        this.#store.insertMessage(message);
        commitLife();
        this.commitSealed(contact.id, sealed);
        if (synced) this.commitSealed(this.keys().profile.accountId, synced);
      });
      // A timed text is `life` content, which sent-message sync does not carry: the life module does.
      await this.life.syncOwn(contact.id, content);
      this.#events.emit('outbox', this.#store.countOutbox());
      this.pumpOutbox();
      return this.life.decorate(message);
    });
  }

  messages(contactId: string, options: { limit?: number } = {}): StoredMessage[] {
    this.keys();
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
      throw new ClientError('BAD_ARGUMENT', 'limit must be a non-negative integer');
    }
    return this.#store.listMessages(contactId, options.limit).map((m) => this.life.decorate(m));
  }

  unread(): StoredMessage[] {
    this.keys();
    // Messages held in a request (no contact yet) are not in the normal list.
    return this.#store.listUnread().filter((m) => this.#store.getContact(m.contactId) !== undefined).map((m) => this.life.decorate(m));
  }

  /**
   * Marks incoming messages read (at once: unread() no longer lists them) and, while read
   * receipts are on, queues one read receipt per contact (split at MAX_RECEIPT_IDS) for the ones
   * that were unread. The promise resolves when the receipts are in the outbox; it never rejects
   * for a receipt that could not be sealed (logged as receipt.failed).
   */
  markRead(messageIds: readonly string[]): Promise<void> {
    this.keys();
    const byContact = new Map<string, Uint8Array[]>();
    for (const id of new Set(messageIds)) {
      const m = this.#store.getMessage(id);
      if (!m || m.direction !== 'in' || m.read) continue;
      const list = byContact.get(m.contactId) ?? [];
      list.push(fromHex(m.id));
      byContact.set(m.contactId, list);
    }
    this.#store.transaction(() => {
      this.#store.markRead(messageIds);
      // Incoming disappearing messages start their timer when read (docs/message-life.md).
      this.life.startTimers(messageIds);
    });
    if (byContact.size === 0 || !this.receiptSettings().readReceipts) return Promise.resolve();
    return this.#serial.run(async () => {
      for (const [contactId, ids] of byContact) {
        for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) await this.queueReceipt(contactId, ids.slice(i, i + MAX_RECEIPT_IDS), 'read');
      }
    });
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
    this.keys();
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
    return this.contactOf(await this.life.acceptRequest(id, options));
  }
  rejectRequest(id: string, options: { block?: boolean } = {}): Promise<void> {
    return this.life.rejectRequest(id, options);
  }

  outboxSize(): number {
    this.keys();
    return this.#store.countOutbox();
  }

  // ---- attachments (docs/attachments.md; the file transfer itself is in the Node entry) --------

  /** Name, type and size of a message's attachment; undefined when it has none. */
  attachment(messageId: string): AttachmentInfo | undefined {
    this.keys();
    const ref = loadReference(this.#store, messageId);
    return ref && infoOf(ref);
  }

  /** The full reference (with its key) for a platform entry's download. */
  protected attachmentReference(messageId: string): AttachmentReference | undefined {
    this.keys();
    return loadReference(this.#store, messageId);
  }

  /** What a platform entry needs to upload: the crypto backend, our relay, and a blob-create signer. */
  protected attachmentUploader(): { crypto: CryptoBackend; relayUrl: string; deviceId: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> } {
    const k = this.keys();
    const crypto = this.#crypto;
    return { crypto, relayUrl: k.identity.relayUrl, deviceId: fromHex(k.profile.deviceId), sign: (message) => crypto.ed25519Sign(k.device.signing.secretKey, message) };
  }

  /** Seals an already uploaded attachment's reference to every device of the contact (like send). */
  protected async sendAttachmentReference(contactId: string, attachment: AttachmentReference, caption = ''): Promise<StoredMessage> {
    this.keys();
    const contact = this.#store.getContact(contactId) ?? this.contactRow(this.findContact(contactId).id);
    if (utf8.encode(caption).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `caption is longer than ${MAX_TEXT_BYTES} bytes`);
    this.refuseIfKeyChanged(contact.id);
    return this.#serial.run(async () => {
      this.open();
      this.refuseIfKeyChanged(contact.id);
      const id = this.#crypto.randomBytes(CONTENT_ID_BYTES);
      const sentAt = this.#now();
      const sealed = await this.sealForContact(contact, { type: 'attachment', id, sentAt, attachment, caption }, toHex(id));
      this.refuseIfKeyChanged(contact.id);
      const message: MessageRow = {
        id: toHex(id),
        contactId: contact.id,
        direction: 'out',
        text: describeAttachment(attachment, caption),
        sentAt,
        receivedAt: null,
        state: 'queued',
        read: true,
      };
      this.#store.transaction(() => {
        this.#store.insertMessage(message);
        storeReference(this.#store, message.id, attachment);
        this.commitSealed(contact.id, sealed);
      });
      this.#events.emit('outbox', this.#store.countOutbox());
      this.pumpOutbox();
      return toStored(message);
    });
  }

  // ---- connection ---------------------------------------------------------------------------

  connectionState(): ConnectionState {
    return this.#auth?.state() ?? 'offline';
  }

  /** Starts both connections (kept up with backoff until close) and waits for the authenticated one. */
  async connect(options: { timeoutMs?: number } = {}): Promise<void> {
    const k = this.keys();
    this.#wantOnline = true;
    if (!this.#auth) {
      this.#auth = new RelayConnection({
        ...this.#tuning,
        url: k.identity.relayUrl,
        label: 'auth',
        socketFactory: this.#socketFactory,
        logger: this.#log,
        handshake: (conn, challenge) => this.authenticate(conn, challenge),
        onPush: (frame) => this.onPush(frame),
        onState: (state) => {
          this.#events.emit('connection', state);
          if (state === 'connected') {
            void this.topUpPreKeys();
            void this.life.resumeRotation().catch((err: unknown) => this.#log('life.rotation_failed', { code: errorCode(err) }));
          }
        },
      });
      this.#auth.start();
    }
    this.anon(k.identity.relayUrl);
    this.pumpOutbox();
    await this.#auth.waitConnected(options.timeoutMs ?? this.#connectTimeoutMs);
  }

  /** Resolves when the outbox is empty (every envelope acknowledged by its relay). */
  flush(timeoutMs = this.#connectTimeoutMs): Promise<void> {
    this.keys();
    if (this.#store.countOutbox() === 0) return Promise.resolve();
    // Asking for a flush is asking to send: dial the relays the queued envelopes go to.
    this.#wantOnline = true;
    this.pumpOutbox();
    return this.waitFor('outbox', () => this.#store.countOutbox() === 0, timeoutMs, () => {
      const n = this.#store.countOutbox();
      const connected = [...this.#anon.values()].some((c) => c.state() === 'connected');
      return connected
        ? new ClientError('TIMEOUT', `${n} message(s) still waiting for the relay`)
        : new ClientError('RELAY_UNREACHABLE', `the relay is unreachable; ${n} message(s) stay queued`);
    });
  }

  /** Resolves when the relay's backlog for this device has been received and processed. */
  sync(timeoutMs = this.#connectTimeoutMs): Promise<void> {
    this.keys();
    if (!this.#auth) return Promise.reject(new ClientError('RELAY_UNREACHABLE', 'not connected (call connect first)'));
    return this.waitFor('drained', () => this.#drained, timeoutMs, () =>
      this.connectionState() === 'connected'
        ? new ClientError('TIMEOUT', 'the relay did not finish sending the backlog in time')
        : new ClientError('RELAY_UNREACHABLE', 'the relay is unreachable'),
    );
  }

  private waitFor(event: 'outbox' | 'drained', done: () => boolean, timeoutMs: number, onTimeout: () => ClientError): Promise<void> {
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
      offEvent = this.#events.on(event, () => {
        if (this.#closed) finish(new ClientError('CLOSED', 'the client was closed'));
        else if (done()) finish();
      });
      offClosed = this.#events.on('connection', () => {
        if (this.#closed) finish(new ClientError('CLOSED', 'the client was closed'));
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
    return this.#events.on(event, fn as (value: unknown) => void);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.life.close();
    this.#auth?.stop();
    for (const c of this.#anon.values()) c.stop();
    this.#events.emit('outbox', 0);
    this.#events.emit('drained', false);
    this.#events.emit('connection', 'offline');
    await this.#serial.idle();
    this.#events.clear();
    this.#store.close();
  }

  /** Never lets key material out through JSON.stringify. */
  toJSON(): unknown {
    return { type: 'PigeonClient', profile: this.#keys?.profile ?? null, closed: this.#closed };
  }

  [INSPECT](): unknown {
    return this.toJSON();
  }

  // ---- internals: relay sessions -------------------------------------------------------------

  private async authenticate(conn: RelayConnection, challenge: ChallengeFrame): Promise<void> {
    const k = this.keys();
    this.#drained = false;
    const signature = await this.#crypto.ed25519Sign(k.device.signing.secretKey, authMessage(challenge.nonce));
    expectOk(await conn.request({ type: 'auth', deviceId: fromHex(k.profile.deviceId), signature }), 'auth');
  }

  private anon(url: string): RelayConnection {
    let conn = this.#anon.get(url);
    if (!conn) {
      conn = new RelayConnection({
        ...this.#tuning,
        url,
        label: 'anon',
        socketFactory: this.#socketFactory,
        logger: this.#log,
        onState: (state) => {
          if (state === 'connected') this.pumpOutbox();
        },
      });
      this.#anon.set(url, conn);
      conn.start();
    }
    return conn;
  }

  /**
   * Bundles of the account's listed devices (fetch_device_bundles): the signed list in the reply is
   * offered to the devices manager (accepted only if it verifies under `accountKey` and is newer),
   * and bundles of devices the held list does not name are dropped (docs/protocol.md §13.1).
   */
  private async fetchBundles(url: string, accountId: Uint8Array, deliveryToken: Uint8Array, accountKey: Uint8Array): Promise<readonly Uint8Array[]> {
    const conn = this.anon(url);
    let reply: RelayFrame;
    try {
      await conn.waitConnected(this.#connectTimeoutMs);
      reply = await conn.request({ type: 'fetch_device_bundles', accountId, deliveryToken });
      if (reply.type !== 'device_bundles') throw new ClientError('RELAY_REJECTED', `unexpected ${reply.type} reply to fetch_device_bundles`);
    } catch (err) {
      throw asClientError(err, 'the key bundle request');
    }
    const id = toHex(accountId);
    await this.devices.offerList(id, accountKey, reply.deviceList);
    this.devices.markFetched(id);
    return reply.bundles.filter((bytes) => {
      try {
        return this.devices.isListed(id, decodePreKeyBundle(bytes).certificate);
      } catch {
        return false;
      }
    });
  }

  /** Keeps enough one-time prekeys at the relay; private halves are stored before the upload. */
  private async topUpPreKeys(): Promise<void> {
    const conn = this.#auth;
    if (!conn || this.#topUpRunning || this.#closed) return;
    this.#topUpRunning = true;
    try {
      const k = this.keys();
      const status = await conn.request({ type: 'prekey_status' });
      if (status.type !== 'prekey_status_result') return;
      const needOneTime = status.oneTimePreKeys < PREKEY_LOW_WATER ? PREKEY_BATCH - status.oneTimePreKeys : 0;
      const needKem = status.kemOneTimePreKeys < PREKEY_LOW_WATER ? PREKEY_BATCH - status.kemOneTimePreKeys : 0;
      if (needOneTime === 0 && needKem === 0) return;
      const firstOneTime = Number(this.#store.getState(ONE_TIME_ID_KEY) ?? '1');
      const firstKem = Number(this.#store.getState(KEM_ID_KEY) ?? '1');
      const oneTime = needOneTime > 0 ? await generateOneTimePreKeys(this.#crypto, firstOneTime, needOneTime) : [];
      const kems: KemPreKeyPair[] = [];
      for (let i = 0; i < needKem; i++) kems.push(await generateKemPreKey(this.#crypto, k.device, firstKem + i, false, this.#now()));
      this.#store.transaction(() => {
        for (const p of oneTime) this.#store.putPreKey('one_time', p.id, encodeOneTimePreKey(p));
        for (const p of kems) this.#store.putPreKey('kem', p.id, encodeKemPreKey(p));
        this.#store.setState(ONE_TIME_ID_KEY, String(firstOneTime + needOneTime));
        this.#store.setState(KEM_ID_KEY, String(firstKem + needKem));
      });
      expectOk(
        await conn.request({
          type: 'upload_prekeys',
          signedPreKey: null,
          kemLastResortPreKey: null,
          oneTimePreKeys: oneTime.map((p) => ({ id: p.id, publicKey: p.keyPair.publicKey })),
          kemOneTimePreKeys: kems.map((p) => ({ id: p.id, publicKey: p.keyPair.publicKey, signature: p.signature })),
        }),
        'upload_prekeys',
      );
      this.#log('prekeys.topped_up', { oneTime: needOneTime, kem: needKem });
    } catch (err) {
      this.#log('prekeys.top_up_failed', { code: errorCode(err) });
    } finally {
      this.#topUpRunning = false;
    }
  }

  // ---- internals: sending --------------------------------------------------------------------

  private async sealToDevice(
    contact: ContactRow,
    deviceId: string,
    certificate: DeviceCertificate,
    record: SessionRecord,
    plaintext: Uint8Array,
    messageId: string | null,
  ): Promise<{ row: OutboxRow; record: SessionRecord }> {
    const k = this.keys();
    const now = this.#now();
    const encrypted = await sessionEncrypt(this.#crypto, record, plaintext, now);
    const envelope = await sealMessage(this.#crypto, k.device, certificate, encrypted.message);
    const row: OutboxRow = {
      relayMessageId: toHex(this.#crypto.randomBytes(16)),
      messageId,
      contactId: contact.id,
      recipientDeviceId: deviceId,
      relayUrl: contact.relayUrl,
      deliveryToken: contact.deliveryToken,
      envelope,
      createdAt: now,
    };
    return { row, record: encrypted.record };
  }

  /** Seals content for every device of the contact that has an active session (fetching bundles if none has). Runs in #serial. */
  private async sealForContact(contact: ContactRow, content: Content, messageId: string | null): Promise<SealedFor> {
    const plaintext = encodeContent(content);
    // With a signed device list held for the contact: exactly its devices (sessions started for new ones).
    let listed = await this.devices.listedIds(contact.id);
    if (!listed && this.devices.neverFetched(contact.id)) {
      // Once per contact: learn its signed device list (a device linked later may not have it).
      await this.establishSessions(contact).catch((err: unknown) => this.#log('session.list_fetch_failed', { code: errorCode(err) }));
      listed = await this.devices.listedIds(contact.id);
    }
    if (listed) {
      const sealed = await this.sealForDevices(contact, plaintext, messageId, listed);
      if (sealed.rows.length === 0) throw new ClientError('RELAY_REJECTED', 'no device of this contact can be reached');
      return sealed;
    }
    const attempt = async (): Promise<SealedFor> => {
      const sealed: SealedFor = { rows: [], sessions: [] };
      for (const d of this.#store.listContactDevices(contact.id)) {
        const stored = this.#store.getSession(d.deviceId);
        const record = stored ? decodeSessionRecord(stored) : undefined;
        if (!record || !hasActiveSession(record)) continue;
        const out = await this.sealToDevice(contact, d.deviceId, decodeDeviceCertificate(d.certificate), record, plaintext, messageId);
        sealed.rows.push(out.row);
        sealed.sessions.push({ deviceId: d.deviceId, record: out.record });
      }
      return sealed;
    };
    const first = await attempt();
    if (first.rows.length > 0) return first;
    await this.establishSessions(contact);
    const second = await attempt();
    if (second.rows.length === 0) throw new ClientError('RELAY_REJECTED', 'no device of this contact can be reached');
    return second;
  }

  /** Starts sessions with every device of a contact from fresh bundles (needs the relay). Runs in #serial. */
  private async establishSessions(contact: ContactRow, only?: ReadonlySet<string>): Promise<void> {
    const k = this.keys();
    const self = contact.id === k.profile.accountId;
    const bundles = await this.fetchBundles(contact.relayUrl, fromHex(contact.id), contact.deliveryToken, contact.accountKey);
    const changes: SafetyEventRow[] = [];
    for (const bytes of bundles) {
      try {
        const bundle = decodePreKeyBundle(bytes);
        if (!equalBytes(bundle.certificate.accountKey, contact.accountKey)) continue;
        const deviceId = toHex(await deviceIdOf(this.#crypto, bundle.certificate.deviceSigningKey));
        if (deviceId === k.profile.deviceId || (only && !only.has(deviceId))) continue;
        const stored = this.#store.getSession(deviceId);
        const record = await initiateSession(this.#crypto, k.device, stored ? decodeSessionRecord(stored) : undefined, bundle, this.#now());
        this.#store.transaction(() => {
          const change = self ? null : this.noteDevice(contact.id, deviceId, bundle.certificate);
          if (change) changes.push(change);
          this.#store.putContactDevice({ contactId: contact.id, deviceId, certificate: encodeDeviceCertificate(bundle.certificate) });
          this.#store.putSession(deviceId, contact.id, encodeSessionRecord(record));
        });
      } catch (err) {
        this.#log('session.bad_bundle', { code: errorCode(err) });
      }
    }
    this.emitKeyChanges(changes);
  }

  // ---- internals for feature modules (internals.ts) -------------------------------------------

  private internals(): ClientInternals {
    return {
      store: this.#store,
      crypto: this.#crypto,
      now: () => this.#now(),
      log: this.#log,
      serial: (task) => this.#serial.run(async () => {
        this.open();
        return task();
      }),
      keys: () => {
        const k = this.keys();
        return { account: k.hasAccountSecret ? k.account : null, accountKey: k.account.signing.publicKey, device: k.device, profile: k.profile };
      },
      isListed: (accountId, certificate) => this.devices.isListed(accountId, certificate),
      sendContent: (targets, content, messageId, commit) => this.sendContent(targets, content, messageId, commit),
      ensureContact: (card) => this.ensureContact(card),
      ownCard: () => {
        const k = this.keys();
        return { accountKey: k.account.signing.publicKey, name: k.identity.displayName, relayUrl: k.identity.relayUrl, deliveryToken: k.identity.deliveryToken };
      },
      countOutbox: (messageId) => this.#store.countOutbox(messageId),
    };
  }

  /** Our own account as a pseudo-contact: its other devices get what we send (sent-message sync, groups). */
  private selfContact(): ContactRow {
    const k = this.keys();
    return {
      id: k.profile.accountId,
      name: k.identity.displayName,
      accountKey: k.account.signing.publicKey,
      relayUrl: k.identity.relayUrl,
      deliveryToken: k.identity.deliveryToken,
      verified: true,
      addedAt: k.identity.createdAt,
    };
  }

  /** Sent-message sync: `content` sealed to our other listed devices, or null when we have none. Runs in #serial. */
  private async sealOwnSync(contactId: string, content: Content): Promise<SealedFor | null> {
    if (!this.devices.hasOtherOwnDevices()) return null;
    const self = this.selfContact();
    try {
      const plaintext = encodeContent(this.devices.syncContent(contactId, content));
      return await this.sealForDevices(self, plaintext, null, await this.devices.listedIds(self.id));
    } catch (err) {
      this.#log('sync.failed', { code: errorCode(err) });
      return null;
    }
  }

  /** Lock-free (runs in #serial): see ClientInternals.sendContent. */
  private async sendContent(targets: readonly SendTarget[], content: Content, messageId: string | null, commit?: () => void): Promise<SendOutcome> {
    const k = this.keys();
    const plaintext = encodeContent(content);
    const all: { contactId: string; sealed: SealedFor }[] = [];
    const unreachable: string[] = [];
    for (const t of targets) {
      const contact = t.contactId === k.profile.accountId ? this.selfContact() : this.#store.getContact(t.contactId);
      if (!contact) {
        unreachable.push(t.contactId);
        continue;
      }
      try {
        const sealed = await this.sealForDevices(contact, plaintext, messageId, t.deviceIds);
        if (sealed.rows.length === 0) unreachable.push(t.contactId);
        else all.push({ contactId: contact.id, sealed });
      } catch (err) {
        this.#log('send.unreachable', { code: errorCode(err) });
        unreachable.push(t.contactId);
      }
    }
    this.#store.transaction(() => {
      for (const s of all) this.commitSealed(s.contactId, s.sealed);
      commit?.();
    });
    const envelopes = all.reduce((n, s) => n + s.sealed.rows.length, 0);
    if (envelopes > 0) {
      this.#events.emit('outbox', this.#store.countOutbox());
      this.pumpOutbox();
    }
    return { envelopes, unreachable };
  }

  /**
   * Seals for the listed devices of a contact (every device when `only` is absent) that have an
   * active session, then starts sessions from fresh bundles for listed devices still missing.
   * Runs in #serial.
   */
  private async sealForDevices(contact: ContactRow, plaintext: Uint8Array, messageId: string | null, only?: ReadonlySet<string>): Promise<SealedFor> {
    const own = this.keys().profile.deviceId;
    const sealed: SealedFor = { rows: [], sessions: [] };
    const attempt = async (): Promise<void> => {
      for (const d of this.#store.listContactDevices(contact.id)) {
        if (d.deviceId === own || (only && !only.has(d.deviceId)) || sealed.sessions.some((s) => s.deviceId === d.deviceId)) continue;
        const certificate = decodeDeviceCertificate(d.certificate);
        // A device the account's signed list does not name (revoked) gets nothing.
        if (!this.devices.isListed(contact.id, certificate)) continue;
        const stored = this.#store.getSession(d.deviceId);
        const record = stored ? decodeSessionRecord(stored) : undefined;
        if (!record || !hasActiveSession(record)) continue;
        const out = await this.sealToDevice(contact, d.deviceId, certificate, record, plaintext, messageId);
        sealed.rows.push(out.row);
        sealed.sessions.push({ deviceId: d.deviceId, record: out.record });
      }
    };
    await attempt();
    const missing = only ? [...only].filter((id) => id !== own && !sealed.sessions.some((s) => s.deviceId === id)) : [];
    if (sealed.rows.length > 0 && missing.length === 0) return sealed;
    await this.establishSessions(contact, only ? new Set(missing) : undefined);
    await attempt();
    return sealed;
  }

  /** Adds a contact from a group member card if we do not know the account yet. */
  private async ensureContact(card: ContactCard): Promise<boolean> {
    const k = this.keys();
    if (equalBytes(card.accountKey, k.account.signing.publicKey)) return false;
    const id = toHex(await accountIdOf(this.#crypto, card.accountKey));
    if (this.#store.getContact(id)) return false;
    let name: string;
    try {
      name = checkName(card.name || 'member', 'contact name');
    } catch {
      name = 'member';
    }
    const row: ContactRow = { id, name, accountKey: card.accountKey, relayUrl: normalizeRelayUrl(card.relayUrl), deliveryToken: card.deliveryToken, verified: false, addedAt: this.#now() };
    this.#store.transaction(() => {
      if (!this.#store.getContact(id)) this.#store.putContact(row);
    });
    await this.rememberPigeonId(id);
    this.#events.emit('contact', this.contactOf(row), this.listenerError);
    return true;
  }

  /** Must run inside a store transaction. */
  private commitSealed(contactId: string, sealed: SealedFor): void {
    for (const s of sealed.sessions) this.#store.putSession(s.deviceId, contactId, encodeSessionRecord(s.record));
    for (const row of sealed.rows) this.#store.putOutbox(row);
  }

  /** Sends every outbox entry whose relay connection is up; safe to call any time. */
  private pumpOutbox(): void {
    if (this.#closed || !this.#keys) return;
    for (const row of this.#store.listOutbox()) {
      if (this.#inFlight.size >= MAX_SENDS_IN_FLIGHT) return;
      if (this.#inFlight.has(row.relayMessageId)) continue;
      if (!this.#wantOnline && !this.#anon.has(row.relayUrl)) continue;
      const conn = this.anon(row.relayUrl);
      if (conn.state() !== 'connected') continue;
      this.#inFlight.add(row.relayMessageId);
      conn
        .request({
          type: 'send',
          messageId: fromHex(row.relayMessageId),
          recipientDeviceId: fromHex(row.recipientDeviceId),
          deliveryToken: row.deliveryToken,
          envelope: row.envelope,
        })
        .then(
          () => this.onSendSettled(row, null),
          (err: unknown) => this.onSendSettled(row, err),
        );
    }
  }

  private onSendSettled(row: OutboxRow, err: unknown): void {
    this.#inFlight.delete(row.relayMessageId);
    if (this.#closed) return;
    const permanent = err instanceof RelayError && PERMANENT_SEND_ERRORS.has(err.code);
    if (err && !permanent) {
      this.#log('outbox.retry', { code: errorCode(err) });
      const wait = err instanceof RelayError && err.retryAfterMs > 0 ? err.retryAfterMs : SEND_RETRY_MS;
      if (!this.#retryTimer) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = null;
          this.pumpOutbox();
        }, wait);
      }
      return;
    }
    if (permanent) this.#log('outbox.rejected', { code: errorCode(err) });
    let changed: MessageRow | undefined;
    this.#store.transaction(() => {
      this.#store.deleteOutbox(row.relayMessageId);
      if (row.messageId === null) return;
      if (!permanent) this.#acceptedSome.add(row.messageId);
      const message = this.#store.getMessage(row.messageId);
      if (!message || this.#store.countOutbox(message.id) > 0) return;
      // Every device's envelope has settled: 'sent' if the relay took at least one (a refused
      // device, e.g. one that was removed, must not fail the message for the others), else 'failed'.
      const someAccepted = this.#acceptedSome.delete(message.id) || !permanent;
      if (message.state !== 'queued') return;
      const next = someAccepted ? 'sent' : 'failed';
      this.#store.setMessageState(message.id, next);
      changed = { ...message, state: next };
    });
    if (changed) this.#events.emit('status', toStored(changed), this.listenerError);
    this.#events.emit('outbox', this.#store.countOutbox());
    this.pumpOutbox();
  }

  private readonly listenerError = (err: unknown): void => {
    this.#log('listener.threw', { name: err instanceof Error ? err.name : 'unknown' });
  };

  // ---- internals: receiving ------------------------------------------------------------------

  private onPush(frame: PushFrame): void {
    if (frame.type === 'queue_empty') {
      void this.#serial.run(async () => {
        this.#drained = true;
        this.#events.emit('drained', true);
        void this.topUpPreKeys();
      });
      return;
    }
    this.#serial.run(() => this.receive(frame.messageId, frame.envelope)).catch((err: unknown) => {
      this.#log('inbox.failed', { code: errorCode(err) });
    });
  }

  private readonly preKeyStore: PreKeyStore = {
    signedPreKey: async (id) => {
      const b = this.#store.getPreKey('signed', id);
      return b ? decodeSignedPreKey(b) : undefined;
    },
    oneTimePreKey: async (id) => {
      const b = this.#store.getPreKey('one_time', id);
      return b ? decodeOneTimePreKey(b) : undefined;
    },
    kemPreKey: async (id) => {
      const b = this.#store.getPreKey('kem', id);
      return b ? decodeKemPreKey(b) : undefined;
    },
  };

  /**
   * Queues an ack; called only after the delivery's state is committed, so nothing waits for the
   * relay's answer (a round trip per message made a large backlog take minutes on a slow route).
   * Acks go out on the next tick in frames of up to MAX_ACK_IDS.
   */
  private ack(relayMessageId: Uint8Array): void {
    this.#pendingAcks.push(relayMessageId);
    if (this.#ackTimer || this.#closed) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = null;
      this.flushAcks();
    }, 0);
  }

  private flushAcks(): void {
    const conn = this.#auth;
    while (this.#pendingAcks.length > 0 && conn && !this.#closed) {
      const messageIds = this.#pendingAcks.splice(0, MAX_ACK_IDS);
      conn.request({ type: 'ack', messageIds }).then(
        (reply) => expectOk(reply, 'ack'),
        (err: unknown) => {
          // The relay will deliver them again; the seen-id check makes that harmless.
          this.#log('inbox.ack_failed', { code: errorCode(err), count: messageIds.length });
        },
      ).catch((err: unknown) => this.#log('inbox.ack_failed', { code: errorCode(err), count: messageIds.length }));
    }
  }

  /** One `deliver`: open, decrypt, commit, ack, emit, receipt. Runs in #serial. */
  private async receive(relayMessageId: Uint8Array, envelope: Uint8Array): Promise<void> {
    if (this.#closed) return;
    const k = this.keys();
    const now = this.#now();
    let opened: Awaited<ReturnType<typeof openSealedMessage>>;
    try {
      opened = await openSealedMessage(this.#crypto, k.device, envelope, now);
    } catch (err) {
      this.#log('inbox.undecryptable', { code: errorCode(err) });
      return this.ack(relayMessageId);
    }
    const sender = opened.sender;
    const contactId = toHex(await accountIdOf(this.#crypto, sender.accountKey));
    const deviceId = toHex(await deviceIdOf(this.#crypto, sender.deviceSigningKey));
    const contact = this.#store.getContact(contactId);
    // A device its account's signed list no longer names (revoked) is not heard.
    if (!this.devices.isListed(contactId, sender)) {
      this.#log('inbox.unlisted_device_dropped');
      return this.ack(relayMessageId);
    }
    // Blocked (docs/message-life.md): acked, not stored, no receipts.
    if (this.life.isBlocked(contactId)) {
      this.#log('inbox.blocked_dropped');
      return this.ack(relayMessageId);
    }
    const stored = this.#store.getSession(deviceId);
    let result: Awaited<ReturnType<typeof sessionDecrypt>>;
    try {
      result = await sessionDecrypt(this.#crypto, k.device, stored ? decodeSessionRecord(stored) : undefined, this.preKeyStore, sender, opened.message, now);
    } catch (err) {
      this.#log(errorCode(err) === 'DUPLICATE_MESSAGE' ? 'inbox.duplicate' : 'inbox.decrypt_failed', { code: errorCode(err) });
      return this.ack(relayMessageId);
    }
    let content: Content | null = null;
    try {
      content = decodeContent(result.plaintext);
    } catch (err) {
      this.#log('inbox.bad_content', { code: errorCode(err) });
    }

    // Feature modules (groups, devices) own their content types; they decide about unknown senders themselves.
    const fromSelf = equalBytes(sender.accountKey, k.account.signing.publicKey);
    let ext: ExtensionResult | null = null;
    if (content) {
      for (const handle of this.#extensions) {
        try {
          ext = await handle({ content, sender, senderId: contactId, senderDeviceId: deviceId, known: contact !== undefined, self: fromSelf, now });
        } catch (err) {
          this.#log('inbox.extension_failed', { code: errorCode(err) });
          ext = { commit: () => undefined };
        }
        if (ext) break;
      }
    }

    let newContact: ContactRow | null = null;
    let hold = false;
    if (!contact && !ext) {
      // Strangers become contacts through an introduction carrying one of our invite secrets;
      // their other texts and introductions are held apart as a message request (docs/message-life.md).
      const createdAt = content?.type === 'introduction' ? this.#store.getInvite(toHex(content.inviteSecret)) : undefined;
      const invited = content?.type === 'introduction' && createdAt !== undefined && now - createdAt <= INVITE_TTL_MS;
      if (!invited && !(content && this.life.holdable(content))) {
        this.#log(content?.type === 'introduction' ? 'inbox.bad_invite_secret' : 'inbox.unknown_sender_dropped');
        return this.ack(relayMessageId);
      }
      hold = !invited;
    }
    if (!contact && !ext && !hold && content?.type === 'introduction') {
      let name: string;
      let relayUrl: string;
      try {
        name = checkName(content.displayName || 'contact', 'contact name');
        relayUrl = normalizeRelayUrl(content.relayUrl);
      } catch {
        this.#log('inbox.bad_introduction');
        return this.ack(relayMessageId);
      }
      newContact = { id: contactId, name, accountKey: sender.accountKey, relayUrl, deliveryToken: content.deliveryToken, verified: false, addedAt: now };
    }

    let newMessage: MessageRow | null = null;
    const changed: MessageRow[] = [];
    let keyChange: SafetyEventRow | null = null;
    let requestHeld: (() => void) | null = null;
    // Reciprocal read receipts: with ours off, theirs count as delivery receipts (types.ts).
    const showRead = this.storedReceiptSettings().readReceipts;
    this.#store.transaction(() => {
      if (newContact && content?.type === 'introduction') {
        this.#store.putContact(newContact);
        this.#store.deleteInvite(toHex(content.inviteSecret));
      }
      if (contact) keyChange = this.noteDevice(contactId, deviceId, sender);
      this.#store.putContactDevice({ contactId, deviceId, certificate: encodeDeviceCertificate(sender) });
      this.#store.putSession(deviceId, contactId, encodeSessionRecord(result.record));
      if (result.consumed.oneTimePreKeyId !== null) this.#store.deletePreKey('one_time', result.consumed.oneTimePreKeyId);
      if (result.consumed.kemOneTimePreKeyId !== null) this.#store.deletePreKey('kem', result.consumed.kemOneTimePreKeyId);
      if (!content || !this.#store.markSeen(toHex(content.id), now)) {
        ext = null;
        return;
      }
      if (hold) {
        requestHeld = this.life.holdRequest({ senderId: contactId, accountKey: sender.accountKey, content, now });
        return;
      }
      if (ext) {
        ext.commit();
        return;
      }
      if (content.type === 'text') {
        newMessage = { id: toHex(content.id), contactId, direction: 'in', text: content.text, sentAt: content.sentAt, receivedAt: now, state: 'delivered', read: false };
        this.#store.insertMessage(newMessage);
      } else if (content.type === 'attachment') {
        newMessage = { id: toHex(content.id), contactId, direction: 'in', text: describeAttachment(content.attachment, content.caption), sentAt: content.sentAt, receivedAt: now, state: 'delivered', read: false };
        this.#store.insertMessage(newMessage);
        storeReference(this.#store, newMessage.id, content.attachment);
      } else if (content.type === 'receipt' || content.type === 'read') {
        const next = content.type === 'read' && showRead ? 'read' : 'delivered';
        for (const id of content.ids) {
          const m = this.#store.getMessage(toHex(id));
          // Only forward: a late delivery receipt never turns 'read' back into 'delivered'.
          if (!m || m.direction !== 'out' || m.contactId !== contactId || STATE_RANK[m.state] >= STATE_RANK[next]) continue;
          this.#store.setMessageState(m.id, next);
          changed.push({ ...m, state: next });
        }
      }
    });
    this.ack(relayMessageId);
    const extension = ext as ExtensionResult | null;
    if (extension?.after) {
      try {
        await extension.after();
      } catch (err) {
        this.#log('inbox.extension_failed', { code: errorCode(err) });
      }
    }

    (requestHeld as (() => void) | null)?.();
    if (newContact) {
      await this.rememberPigeonId(contactId);
      this.#log('invite.used');
      this.#events.emit('contact', this.contactOf(newContact), this.listenerError);
    }
    const change = keyChange as SafetyEventRow | null;
    if (change) this.emitKeyChanges([change]);
    const received = newMessage as MessageRow | null;
    if (received) this.#events.emit('message', toStored(received), this.listenerError);
    for (const m of changed) this.#events.emit('status', toStored(m), this.listenerError);
    if (received && this.storedReceiptSettings().deliveryReceipts) await this.queueReceipt(contactId, [fromHex(received.id)], 'receipt');
  }

  /** Seals a delivery ('receipt') or read receipt to every device of the contact. Runs in #serial; never throws. */
  private async queueReceipt(contactId: string, ids: Uint8Array[], type: 'receipt' | 'read'): Promise<void> {
    try {
      const contact = this.contactRow(contactId);
      const sealed = await this.sealForContact(contact, { type, id: this.#crypto.randomBytes(CONTENT_ID_BYTES), sentAt: this.#now(), ids }, null);
      this.#store.transaction(() => this.commitSealed(contactId, sealed));
      this.#events.emit('outbox', this.#store.countOutbox());
      this.pumpOutbox();
    } catch (err) {
      this.#log('receipt.failed', { code: errorCode(err) });
    }
  }
}

function expectOk(frame: RelayFrame, what: string): void {
  if (frame.type !== 'ok') throw new ClientError('RELAY_REJECTED', `unexpected ${frame.type} reply to ${what}`);
}
