/**
 * Linked devices in the SDK (docs/protocol.md §13, "how the client SDK uses this" in
 * packages/protocol/CONTEXT.md): `client.devices`.
 *
 * - The account's signed device list is kept per account (ours and each contact's) in the state
 *   table. A list is only ever replaced by a newer one that verifies under the account key we
 *   already know (`acceptDeviceList`); lists come from `fetch_device_bundles` replies and from
 *   `list` payloads the account's first device pushes to its contacts after each change.
 * - Fan-out (client.ts) goes to every device the held list names, and nowhere else: a revoked
 *   device gets nothing more from anyone who saw the new list (and the relay deleted its mailbox).
 *   Messages from a device the sender's list does not name are dropped.
 * - Linking keeps the account secret on the first device: a linked device stores only the account
 *   public key (payload.ts LINKED_ACCOUNT_MARKER) and cannot link, revoke or sign group changes.
 */
import { RelayError } from '@pigeon/api';
import type { RelayFrame } from '@pigeon/api';
import { fromBase64Url, fromHex, toBase64Url, toHex } from '@pigeon/crypto';
import {
  ProtocolError,
  acceptDeviceList,
  accountIdOf,
  authMessage,
  createDeviceList,
  createProvisioningMessage,
  decodeDeviceList,
  decodeVerifiedDeviceList,
  deviceIdOf,
  deviceListIncludes,
  encodeDeviceCertificate,
  encodeDeviceKeys,
  encodeDeviceList,
  openProvisioningMessage,
  parseLinkCode,
  revokeDevice,
  startProvisioning,
} from '@pigeon/protocol';
import type { DeviceCertificate, DeviceList } from '@pigeon/protocol';
import { describeAttachment, storeReference } from '../attachments/messages.js';
import { decodeContent, encodeContent } from '../content.js';
import type { Content } from '../content.js';
import { Emitter } from '../emitter.js';
import { ClientError } from '../errors.js';
import type { ClientInternals, ContactCard, ExtensionInput, ExtensionResult } from '../internals.js';
import { CONTENT_ID_BYTES } from '../limits.js';
import { errorCode, expectOk } from '../core/checks.js';
import { generateInitialPreKeys, initialUploadFrame, putInitialPreKeys } from '../core/prekeys.js';
import { normalizeRelayUrl } from '../relay-url.js';
import type { IdentityRow } from '../store/types.js';
import { RelayConnection } from '../transport/relay-connection.js';
import type { Profile } from '../types.js';
import { decodeDevicePayload, decodeLinkExtra, encodeDevicePayload, encodeLinkExtra, encodeLinkedAccount, MAX_LINK_CONTACTS } from './payload.js';
import type { DevicePayload } from './payload.js';
import { openProvisioningChannel } from './provisioning-channel.js';

/** How long a new device waits for the existing one (the relay keeps the mailbox 10 minutes). */
export const LINK_WAIT_MS = 10 * 60 * 1000;
/** State keys: `devices.list.<account id>` holds an account's signed list (base64url). */
const LIST_KEY_PREFIX = 'devices.list.';
/** `devices.checked.<account id>`: we asked the relay for the account's list at least once. */
const CHECKED_KEY_PREFIX = 'devices.checked.';
export { ONE_TIME_PREKEY_ID_STATE, KEM_PREKEY_ID_STATE } from '../core/prekeys.js';

export interface DeviceInfo {
  /** hex device id. */
  readonly id: string;
  /** This device. */
  readonly current: boolean;
  readonly addedAt: number;
  /** The device that holds the account key (it links and revokes). */
  readonly accountKeyHolder: boolean;
}

export interface LinkedAccount {
  readonly pigeonId: string;
  /** 6 digits: must match what the existing device shows. */
  readonly confirmationCode: string;
  readonly displayName: string;
}

/** `client.devices.on(...)`: `changed` when our account's device list changed (a device added or removed); `revoked` once this device learnt it was removed. */
export interface DeviceEvents extends Record<string, unknown> {
  changed: undefined;
  revoked: undefined;
}

/** The new device's side of linking: show `linkCode`, await `account`, compare codes, then `confirm()`. */
export interface LinkSession {
  readonly linkCode: string;
  readonly account: Promise<LinkedAccount>;
  confirm(): Promise<Profile>;
  cancel(): void;
}

export interface DeviceAdded {
  readonly deviceId: string;
  readonly pigeonId: string;
  readonly confirmationCode: string;
}

/** What the devices manager needs beyond ClientInternals. */
export interface DeviceHost {
  /** Request on the authenticated connection (connects if needed). */
  authRequest(frame: Parameters<RelayConnection['request']>[0]): Promise<RelayFrame>;
  /** Request on the anonymous connection to `url`. */
  anonRequest(url: string, frame: Parameters<RelayConnection['request']>[0]): Promise<RelayFrame>;
  /** Stores a registered identity (and `write`s) in one transaction and loads it. */
  adoptIdentity(identity: IdentityRow, write: () => void): Promise<Profile>;
  readonly socketFactory: import('../transport/socket.js').SocketFactory;
  readonly tuning: import('../transport/relay-connection.js').ConnectionTuning;
  readonly connectTimeoutMs: number;
  /** After our own devices changed (groups add/remove our devices). */
  onOwnDevicesChanged(): Promise<void>;
  isInitialized(): boolean;
  emitMessage(row: import('../store/types.js').MessageRow): void;
}

function asClientError(err: unknown, what: string): unknown {
  if (err instanceof RelayError) return new ClientError('RELAY_REJECTED', `the relay refused ${what}: ${err.code}`, { cause: err });
  return err;
}

export class DeviceManager {
  readonly #c: ClientInternals;
  readonly #host: DeviceHost;
  /** Decoded lists by account id (hex); null = none held. */
  readonly #lists = new Map<string, DeviceList | null>();
  readonly #ids = new Map<string, { counter: number; ids: Set<string> }>();
  readonly #events = new Emitter<DeviceEvents>();
  #checking: Promise<boolean> | null = null;

  constructor(internals: ClientInternals, host: DeviceHost) {
    this.#c = internals;
    this.#host = host;
  }

  /** Listens to `changed` / `revoked`; returns the unsubscribe function. */
  on<K extends keyof DeviceEvents>(event: K, fn: (value: DeviceEvents[K]) => void): () => void {
    return this.#events.on(event, fn);
  }

  private ownListChanged(accountId: string): void {
    if (!this.#host.isInitialized() || accountId !== this.#c.keys().profile.accountId) return;
    this.#events.emit('changed', undefined, (err) => this.#c.log('devices.listener_failed', { code: errorCode(err) }));
  }

  // ---- the held lists -------------------------------------------------------------------------

  /** The signed list we hold for an account (trusted local storage: verified when it arrived). */
  heldList(accountId: string): DeviceList | null {
    let list = this.#lists.get(accountId);
    if (list === undefined) {
      const stored = this.#c.store.getState(LIST_KEY_PREFIX + accountId);
      list = stored ? decodeDeviceList(fromBase64Url(stored)) : null;
      this.#lists.set(accountId, list);
    }
    return list;
  }

  /** Must run in a transaction. */
  private storeList(accountId: string, list: DeviceList): void {
    this.#c.store.setState(LIST_KEY_PREFIX + accountId, toBase64Url(encodeDeviceList(list)));
    this.#lists.set(accountId, list);
  }

  /** A device may send to / receive from us when the account's held list names it (or we hold none yet). */
  isListed(accountId: string, certificate: DeviceCertificate): boolean {
    const list = this.heldList(accountId);
    return list === null || deviceListIncludes(list, certificate);
  }

  /**
   * A list from the relay or a payload: accepted when it verifies under the account key we know
   * and supersedes what we hold (docs/protocol.md §13.1). Returns whether it changed anything.
   */
  async offerList(accountId: string, accountKey: Uint8Array, bytes: Uint8Array): Promise<boolean> {
    if (bytes.length === 0) return false;
    try {
      const incoming = await decodeVerifiedDeviceList(this.#c.crypto, bytes, accountKey);
      const held = this.heldList(accountId);
      const update = await acceptDeviceList(this.#c.crypto, held, incoming);
      if (held && update.list.counter === held.counter) return false;
      this.#c.store.transaction(() => this.storeList(accountId, update.list));
      this.#c.log('devices.list_accepted', { added: update.added.length, removed: update.removed.length });
      this.ownListChanged(accountId);
      return true;
    } catch (err) {
      this.#c.log('devices.list_refused', { code: errorCode(err) });
      return false;
    }
  }

  /**
   * True until we asked the relay for this account's signed list once (fetch_device_bundles). A
   * device linked after a contact's last list push has no list for it: the first send fetches it.
   */
  neverFetched(accountId: string): boolean {
    return this.heldList(accountId) === null && this.#c.store.getState(CHECKED_KEY_PREFIX + accountId) === undefined;
  }

  markFetched(accountId: string): void {
    if (this.#c.store.getState(CHECKED_KEY_PREFIX + accountId) === undefined) this.#c.store.setState(CHECKED_KEY_PREFIX + accountId, '1');
  }

  /** Device ids (hex) the held list of an account names; undefined when we hold none. */
  async listedIds(accountId: string): Promise<Set<string> | undefined> {
    const list = this.heldList(accountId);
    if (!list) return undefined;
    const cached = this.#ids.get(accountId);
    if (cached && cached.counter === list.counter) return cached.ids;
    const ids = new Set<string>();
    for (const d of list.devices) ids.add(toHex(await deviceIdOf(this.#c.crypto, d.deviceSigningKey)));
    this.#ids.set(accountId, { counter: list.counter, ids });
    return ids;
  }

  /** Devices of our account (from the signed list; just this one before any device was linked). */
  async list(): Promise<DeviceInfo[]> {
    const k = this.#c.keys();
    const list = this.heldList(k.profile.accountId);
    // Before the first link there is no list: just this device (its time of addition is not recorded).
    if (!list) return [{ id: k.profile.deviceId, current: true, addedAt: 0, accountKeyHolder: k.account !== null }];
    const out: DeviceInfo[] = [];
    for (const d of list.devices) {
      const id = toHex(await deviceIdOf(this.#c.crypto, d.deviceSigningKey));
      out.push({ id, current: id === k.profile.deviceId, addedAt: d.addedAt, accountKeyHolder: id === k.profile.deviceId && k.account !== null });
    }
    return out;
  }

  /** True when our account has devices besides this one (sent-message sync is needed). */
  hasOtherOwnDevices(): boolean {
    const k = this.#c.keys();
    const list = this.heldList(k.profile.accountId);
    return list !== null && list.devices.length > 1;
  }

  // ---- revocation: this device was removed ---------------------------------------------------

  /**
   * True when the signed list we hold for our own account no longer names this device: the
   * account-key device removed it (the relay deleted its mailbox; nobody sends to it any more).
   */
  isRevoked(): boolean {
    if (!this.#host.isInitialized()) return false;
    const k = this.#c.keys();
    const list = this.heldList(k.profile.accountId);
    return list !== null && !deviceListIncludes(list, k.device.certificate);
  }

  /**
   * Asks the relay for our account's signed list (anonymously, with our delivery token) and
   * accepts it if newer. A revoked device hears nothing from its other devices (the new list is
   * not sent to it), so this is how it learns: the relay closing it as revoked or refusing its
   * auth only prompts the check, the signed list is the proof. Emits `revoked` once.
   */
  checkRevoked(): Promise<boolean> {
    this.#checking ??= this.fetchOwnList().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  /** The auth connection was closed as revoked or refused: check (linked devices only; never throws). */
  suspectRevoked(): void {
    if (!this.#host.isInitialized() || this.#c.keys().account !== null || this.isRevoked()) return;
    this.checkRevoked().catch((err: unknown) => this.#c.log('devices.revocation_check_failed', { code: errorCode(err) }));
  }

  private async fetchOwnList(): Promise<boolean> {
    const k = this.#c.keys();
    if (this.isRevoked()) return true;
    const own = this.#c.ownCard();
    let reply: RelayFrame;
    try {
      reply = await this.#host.anonRequest(k.profile.relayUrl, { type: 'fetch_device_list', accountId: fromHex(k.profile.accountId), deliveryToken: own.deliveryToken });
    } catch (err) {
      throw asClientError(err, 'the device list request');
    }
    if (reply.type !== 'device_list') throw new ClientError('RELAY_REJECTED', `unexpected ${reply.type} reply to fetch_device_list`);
    await this.offerList(k.profile.accountId, k.accountKey, reply.deviceList);
    const revoked = this.isRevoked();
    if (revoked) {
      this.#c.log('devices.revoked');
      this.#events.emit('revoked', undefined, (err) => this.#c.log('devices.listener_failed', { code: errorCode(err) }));
    }
    return revoked;
  }

  // ---- linking: the existing device (holds the account key) ------------------------------------

  /** Links the device showing `linkCode`: publishes the new signed list, then sends it the account. */
  async add(linkCode: string): Promise<DeviceAdded> {
    const k = this.#c.keys();
    if (!k.account) throw new ClientError('ACCOUNT_KEY_REQUIRED', 'only the device holding the account key can link devices');
    const account = k.account;
    let link;
    try {
      link = parseLinkCode(linkCode.trim());
    } catch (cause) {
      throw new ClientError('BAD_LINK', 'not a valid pigeon://link/ code', { cause });
    }
    const added = await this.#c.serial(async () => {
      const now = this.#c.now();
      const current = this.heldList(k.profile.accountId) ?? (await createDeviceList(this.#c.crypto, account, [k.device.certificate], now));
      const contacts: ContactCard[] = this.#c.store
        .listContacts()
        .slice(0, MAX_LINK_CONTACTS)
        .map((c) => ({ accountKey: c.accountKey, name: c.name, relayUrl: c.relayUrl, deliveryToken: c.deliveryToken }));
      const own = this.#c.ownCard();
      let created;
      try {
        created = await createProvisioningMessage(this.#c.crypto, {
          account,
          deviceList: current,
          link,
          now,
          extra: encodeLinkExtra({ displayName: own.name, deliveryToken: own.deliveryToken, contacts }),
        });
      } catch (err) {
        if (err instanceof ProtocolError && err.code === 'DEVICE_LIST_FULL') throw new ClientError('BAD_ARGUMENT', 'this account already has the most devices it can have', { cause: err });
        if (err instanceof ProtocolError && err.code === 'DEVICE_REVOKED') throw new ClientError('BAD_ARGUMENT', 'that device was removed before; start linking again on it', { cause: err });
        throw err;
      }
      try {
        // The list first: the relay lets the new device register only once the list names it.
        expectOk(await this.#host.authRequest({ type: 'put_device_list', deviceList: encodeDeviceList(created.deviceList) }), 'put_device_list');
        this.#c.store.transaction(() => {
          this.storeList(k.profile.accountId, created.deviceList);
          this.#c.store.putContactDevice({ contactId: k.profile.accountId, deviceId: toHex(created.deviceId), certificate: encodeDeviceCertificate(created.certificate) });
        });
      } catch (err) {
        throw asClientError(err, 'the link');
      }
      try {
        expectOk(await this.#host.anonRequest(normalizeRelayUrl(link.relayUrl), { type: 'provision_send', provisioningId: link.provisioningId, envelope: created.envelope }), 'provision_send');
      } catch (err) {
        // The relay refused the hand-over (the new device's code expired or was used): that device
        // will never exist, so it must not stay in the signed list. A network failure is left alone:
        // the hand-over may have arrived, and removing would cut off a device that did link.
        if (err instanceof RelayError || (err instanceof ClientError && err.code === 'RELAY_REJECTED')) return { refused: asClientError(err, 'the link'), deviceId: toHex(created.deviceId) };
        throw asClientError(err, 'the link');
      }
      this.ownListChanged(k.profile.accountId);
      await this.announceList(created.deviceList);
      return { deviceId: toHex(created.deviceId), pigeonId: k.profile.pigeonId, confirmationCode: created.confirmationCode };
    });
    if ('refused' in added) {
      await this.remove(added.deviceId).catch((err: unknown) => this.#c.log('devices.unlink_failed', { code: errorCode(err) }));
      throw added.refused;
    }
    this.#c.log('devices.linked');
    return added;
  }

  /** Revokes a device everywhere: a new signed list without it (the relay deletes it), pushed to contacts; groups rekey. */
  async remove(deviceIdOrPrefix: string): Promise<DeviceInfo[]> {
    const k = this.#c.keys();
    if (!k.account) throw new ClientError('ACCOUNT_KEY_REQUIRED', 'only the device holding the account key can remove devices');
    const account = k.account;
    const query = deviceIdOrPrefix.trim().toLowerCase();
    const devices = await this.list();
    const matches = devices.filter((d) => d.id === query || (query.length >= 6 && d.id.startsWith(query)));
    if (matches.length !== 1) throw new ClientError('UNKNOWN_DEVICE', `no single device of this account matches "${deviceIdOrPrefix}"`);
    const target = matches[0]!;
    if (target.current) throw new ClientError('BAD_ARGUMENT', 'this device holds the account key and cannot remove itself');
    await this.#c.serial(async () => {
      const current = this.heldList(k.profile.accountId);
      if (!current) throw new ClientError('UNKNOWN_DEVICE', 'no linked devices');
      const next = await revokeDevice(this.#c.crypto, account, current, fromHex(target.id), this.#c.now());
      try {
        expectOk(await this.#host.authRequest({ type: 'put_device_list', deviceList: encodeDeviceList(next) }), 'put_device_list');
      } catch (err) {
        throw asClientError(err, 'the device list');
      }
      this.#c.store.transaction(() => this.storeList(k.profile.accountId, next));
      this.ownListChanged(k.profile.accountId);
      await this.announceList(next);
    });
    await this.#host.onOwnDevicesChanged();
    return this.list();
  }

  /** Lock-free. Pushes our new list to every contact and our other devices, so they fan out to exactly its devices. */
  private async announceList(list: DeviceList): Promise<void> {
    const k = this.#c.keys();
    const content = this.wrap({ kind: 'list', deviceList: encodeDeviceList(list) });
    const targets = [{ contactId: k.profile.accountId }, ...this.#c.store.listContacts().map((c) => ({ contactId: c.id }))];
    const outcome = await this.#c.sendContent(targets, content, null);
    this.#c.log('devices.list_announced', { envelopes: outcome.envelopes, unreachable: outcome.unreachable.length });
  }

  // ---- linking: the new device ---------------------------------------------------------------

  /**
   * Starts linking this (empty) profile to an account: opens a provisioning mailbox on `relayUrl`
   * and returns the code to show. `account` resolves when the existing device answered; after the
   * user compared the codes, `confirm()` registers this device and stores the identity.
   */
  async startLink(options: { relayUrl: string; timeoutMs?: number }): Promise<LinkSession> {
    if (this.#host.isInitialized()) throw new ClientError('ALREADY_INITIALIZED', 'this profile already has an identity');
    const relayUrl = normalizeRelayUrl(options.relayUrl);
    const request = await startProvisioning(this.#c.crypto, relayUrl);
    const channel = openProvisioningChannel({
      url: relayUrl,
      provisioningId: request.link.provisioningId,
      socketFactory: this.#host.socketFactory,
      timeoutMs: options.timeoutMs ?? LINK_WAIT_MS,
      logger: this.#c.log,
    });
    try {
      await channel.opened;
    } catch (err) {
      channel.close();
      throw err;
    }
    const opened = channel.envelope.then(async (envelope) => {
      try {
        const o = await openProvisioningMessage(this.#c.crypto, request, envelope);
        return { o, extra: decodeLinkExtra(o.extra) };
      } catch (cause) {
        throw new ClientError('LINK_FAILED', 'the answer from the other device does not open; start linking again', { cause });
      }
    });
    opened.catch(() => undefined);
    return {
      linkCode: request.linkCode,
      account: opened.then(({ o, extra }) => ({ pigeonId: o.pigeonId, confirmationCode: o.confirmationCode, displayName: extra.displayName })),
      confirm: async () => {
        const { o, extra } = await opened;
        return this.registerLinked(relayUrl, o, extra);
      },
      cancel: () => channel.close(),
    };
  }

  private async registerLinked(
    relayUrl: string,
    o: Awaited<ReturnType<typeof openProvisioningMessage>>,
    extra: ReturnType<typeof decodeLinkExtra>,
  ): Promise<Profile> {
    const c = this.#c.crypto;
    const device = o.deviceKeys;
    const now = this.#c.now();
    const preKeys = await generateInitialPreKeys(c, device, now);
    const conn = new RelayConnection({
      ...this.#host.tuning,
      url: relayUrl,
      label: 'register',
      socketFactory: this.#host.socketFactory,
      logger: this.#c.log,
      handshake: async (cx, challenge) => {
        const signature = await c.ed25519Sign(device.signing.secretKey, authMessage(challenge.nonce));
        expectOk(await cx.request({ type: 'register', certificate: encodeDeviceCertificate(device.certificate), signature }), 'register');
        expectOk(await cx.request(initialUploadFrame(preKeys)), 'upload_prekeys');
      },
    });
    conn.start();
    try {
      await conn.waitConnected(this.#host.connectTimeoutMs);
    } catch (err) {
      throw asClientError(err, 'the registration of this device');
    } finally {
      conn.stop();
    }
    const accountId = toHex(o.accountId);
    const identity: IdentityRow = {
      accountKeys: encodeLinkedAccount(o.accountKey),
      deviceKeys: encodeDeviceKeys(device),
      displayName: extra.displayName || 'me',
      relayUrl,
      deliveryToken: extra.deliveryToken,
      createdAt: now,
    };
    const cards: { id: string; card: ContactCard }[] = [];
    for (const card of extra.contacts) cards.push({ id: toHex(await accountIdOf(c, card.accountKey)), card });
    const profile = await this.#host.adoptIdentity(identity, () => {
      const store = this.#c.store;
      putInitialPreKeys(store, preKeys);
      this.storeList(accountId, o.deviceList);
      for (const { id, card } of cards) {
        if (store.getContact(id)) continue;
        try {
          store.putContact({ id, name: card.name || 'contact', accountKey: card.accountKey, relayUrl: normalizeRelayUrl(card.relayUrl), deliveryToken: card.deliveryToken, verified: false, addedAt: now });
        } catch (err) {
          this.#c.log('devices.bad_contact', { code: errorCode(err) });
        }
      }
    });
    this.#c.log('devices.registered_linked');
    return profile;
  }

  /** On a newly linked device, once connected: tells our other devices (the account-key device adds it to our groups). */
  async announce(): Promise<void> {
    const k = this.#c.keys();
    await this.#c.serial(() => this.#c.sendContent([{ contactId: k.profile.accountId }], this.wrap({ kind: 'hello' }), null));
  }

  // ---- contact sync ---------------------------------------------------------------------------------

  /** Tells our other devices about a contact (queued behind whatever runs; a known contact is ignored there). */
  shareContact(contactId: string): void {
    if (!this.#host.isInitialized() || !this.hasOtherOwnDevices()) return;
    const row = this.#c.store.getContact(contactId);
    if (!row) return;
    const card: ContactCard = { accountKey: row.accountKey, name: row.name, relayUrl: row.relayUrl, deliveryToken: row.deliveryToken };
    const self = this.#c.keys().profile.accountId;
    this.#c
      .serial(() => this.#c.sendContent([{ contactId: self }], this.wrap({ kind: 'contact', card }), null))
      .catch((err: unknown) => this.#c.log('devices.contact_sync_failed', { code: errorCode(err) }));
  }

  // ---- sent-message sync --------------------------------------------------------------------------

  /** The payload that tells our other devices what we sent to `contactId`. */
  syncContent(contactId: string, content: Content): Content {
    return this.wrap({ kind: 'sent', to: fromHex(contactId), content: encodeContent(content) });
  }

  private wrap(payload: DevicePayload): Content {
    return { type: 'device', id: this.#c.crypto.randomBytes(CONTENT_ID_BYTES), sentAt: this.#c.now(), payload: encodeDevicePayload(payload) };
  }

  // ---- receiving ----------------------------------------------------------------------------------

  /**
   * Receive hooks run inside the serial queue and group changes take it too: queue the group
   * update behind the current receive instead of waiting for it (which would deadlock).
   */
  private ownDevicesChanged(): void {
    this.#host.onOwnDevicesChanged().catch((err: unknown) => this.#c.log('devices.groups_update_failed', { code: errorCode(err) }));
  }

  /** The receive hook (client.ts): owns content type `device`. */
  readonly handle = async (input: ExtensionInput): Promise<ExtensionResult | null> => {
    if (input.content.type !== 'device') return null;
    const ignore: ExtensionResult = { commit: () => undefined };
    let payload: DevicePayload;
    try {
      payload = decodeDevicePayload(input.content.payload);
    } catch (err) {
      this.#c.log('devices.bad_payload', { code: errorCode(err) });
      return ignore;
    }
    if (payload.kind === 'list') {
      // From a contact (or our own account-key device): a newer list of that account.
      if (!input.known && !input.self) return ignore;
      const accepted = await this.offerList(input.senderId, input.sender.accountKey, payload.deviceList);
      if (accepted && input.self) return { commit: () => undefined, after: async () => this.ownDevicesChanged() };
      return ignore;
    }
    // Everything else only ever comes from our own devices.
    if (!input.self) return ignore;
    switch (payload.kind) {
      case 'hello':
        return { commit: () => undefined, after: async () => this.ownDevicesChanged() };
      case 'contact': {
        const card = payload.card;
        return {
          commit: () => undefined,
          after: async () => {
            try {
              await this.#c.ensureContact(card);
            } catch (err) {
              this.#c.log('devices.bad_contact', { code: errorCode(err) });
            }
          },
        };
      }
      case 'sent': {
        let inner: Content;
        try {
          inner = decodeContent(payload.content);
        } catch {
          return ignore;
        }
        const contactId = toHex(payload.to);
        if ((inner.type !== 'text' && inner.type !== 'attachment') || !this.#c.store.getContact(contactId)) return ignore;
        const attachment = inner.type === 'attachment' ? inner.attachment : null;
        const text = inner.type === 'text' ? inner.text : describeAttachment(inner.attachment, inner.caption);
        const row = { id: toHex(inner.id), contactId, direction: 'out' as const, text, sentAt: inner.sentAt, receivedAt: input.now, state: 'sent' as const, read: true };
        let inserted = false;
        return {
          commit: () => {
            if (this.#c.store.getMessage(row.id)) return;
            this.#c.store.insertMessage(row);
            if (attachment) storeReference(this.#c.store, row.id, attachment);
            inserted = true;
          },
          after: async () => {
            if (inserted) this.#host.emitMessage(row);
          },
        };
      }
    }
  };
}
