/**
 * Linked devices on the relay (docs/relay-api.md "Linked devices"): the signed device list
 * (put/fetch, bundles filtered by it, registration gated by it) and the provisioning mailboxes a
 * new device waits on while an existing device links it. Kept out of connection.ts, which only
 * dispatches the frames here.
 */
import {
  RelayError,
  type FetchDeviceBundlesFrame,
  type FetchDeviceListFrame,
  type ProvisionOpenFrame,
  type ProvisionSendFrame,
  type PutDeviceListFrame,
  type RelayFrame,
} from '@pigeon/api';
import { equalBytes } from '@pigeon/crypto';
import {
  accountIdOf,
  decodeDeviceCertificate,
  decodeDeviceList,
  decodeVerifiedDeviceList,
  deviceListIds,
  deviceListIncludes,
  type DeviceList,
} from '@pigeon/protocol';
import { deviceKey, type OnlineConnection, type RelayContext } from './context.js';

/** How long a provisioning mailbox stays open (the new device shows its QR code this long). */
export const PROVISIONING_TTL_MS = 10 * 60 * 1000;

/** Directory key of a provisioning mailbox: 17 bytes of hex, so it never equals a device key (16). */
export function provisioningKey(provisioningId: Uint8Array): string {
  return `ff${deviceKey(provisioningId)}`;
}

export interface LinkedDeviceHost {
  send(frame: RelayFrame): void;
  /** The authenticated device of the connection, if any. */
  device(): { readonly id: Uint8Array; readonly accountId: Uint8Array } | null;
}

/** A connection the relay closes because its device was revoked (Connection implements it). */
interface Revocable {
  revoke(): void;
}
const isRevocable = (c: OnlineConnection | undefined): c is OnlineConnection & Revocable =>
  c !== undefined && typeof (c as Partial<Revocable>).revoke === 'function';

/** Claims a device's directory entry for a moment so that its connection, here or on another node, is closed. */
const TOMBSTONE: OnlineConnection = {
  wake() {},
  replace() {},
  sweep: () => Promise.resolve(0),
};

/** The provisioning mailbox a new device waits on: pushed its one message when it arrives. */
class ProvisioningSlot implements OnlineConnection {
  private done = false;
  private taking: Promise<number> | null = null;
  constructor(
    readonly id: Uint8Array,
    readonly key: string,
    private readonly ctx: RelayContext,
    private readonly host: LinkedDeviceHost,
  ) {}

  wake(): void {
    void this.sweep();
  }

  replace(): void {
    this.release();
  }

  sweep(): Promise<number> {
    if (this.done) return Promise.resolve(0);
    this.taking ??= this.take().finally(() => {
      this.taking = null;
    });
    return this.taking;
  }

  private async take(): Promise<number> {
    try {
      const envelope = await this.ctx.store.takeProvisioningMessage(this.id, this.ctx.clock.now());
      if (envelope === undefined || this.done) return 0;
      this.host.send({ type: 'provision_message', provisioningId: this.id, envelope });
      this.release();
      return 1;
    } catch {
      this.ctx.logger.error('provisioning_failed');
      return -1;
    }
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.ctx.devices.release(this.key, this);
  }
}

export class LinkedDevices {
  private slot: ProvisioningSlot | null = null;

  constructor(
    private readonly ctx: RelayContext,
    private readonly host: LinkedDeviceHost,
  ) {}

  /** The connection closed: stop waiting for a provisioning message (the mailbox expires on its own). */
  close(): void {
    this.slot?.release();
  }

  // ---- device list -------------------------------------------------------------------

  private async decodeList(bytes: Uint8Array): Promise<DeviceList> {
    try {
      return await decodeVerifiedDeviceList(this.ctx.crypto, bytes);
    } catch (cause) {
      throw new RelayError('BAD_DEVICE_LIST', 'device list is malformed or not signed by its account key', 0, { cause });
    }
  }

  /** put_device_list (auth): verified, newer than the stored one; unlisted devices lose their mailbox and connection. */
  async putDeviceList(frame: PutDeviceListFrame): Promise<void> {
    const device = this.host.device()!;
    const list = await this.decodeList(frame.deviceList);
    if (!equalBytes(await accountIdOf(this.ctx.crypto, list.accountKey), device.accountId)) {
      throw new RelayError('BAD_DEVICE_LIST', 'device list of another account');
    }
    const listed = await deviceListIds(this.ctx.crypto, list);
    const result = await this.ctx.store.putDeviceList(device.accountId, { counter: list.counter, bytes: frame.deviceList }, listed);
    // Removed devices must not stay acceptable recipients of this node's send-auth cache.
    this.ctx.sendAuth.forgetAccount(device.accountId);
    if (result.outcome === 'stale') throw new RelayError('STALE_DEVICE_LIST', 'the relay holds a newer device list');
    this.host.send({ type: 'ok', id: frame.id });
    if (result.outcome === 'stored') {
      for (const removed of result.removed) this.disconnect(deviceKey(removed));
      this.ctx.logger.info('device_list_stored', { removed: result.removed.length });
    }
  }

  /** Closes a revoked device's connection wherever it is (a claim displaces it, here or over the bus). */
  private disconnect(key: string): void {
    const displaced = this.ctx.devices.claim(key, TOMBSTONE);
    this.ctx.devices.release(key, TOMBSTONE);
    if (isRevocable(displaced)) displaced.revoke();
    else displaced?.replace();
  }

  /** A delivery token of the account, or a connection authenticated as one of its devices. */
  private async requireAccess(accountId: Uint8Array, token: Uint8Array): Promise<void> {
    const own = this.host.device();
    if (own !== null && equalBytes(own.accountId, accountId)) return;
    if (token.length === 0 || !(await this.ctx.store.hasDeliveryToken(accountId, await this.ctx.crypto.sha256(token)))) {
      throw new RelayError('BAD_DELIVERY_TOKEN', 'delivery token refused');
    }
  }

  async fetchDeviceList(frame: FetchDeviceListFrame): Promise<void> {
    if (!(await this.ctx.store.accountExists(frame.accountId))) throw new RelayError('UNKNOWN_ACCOUNT', 'unknown account');
    await this.requireAccess(frame.accountId, frame.deliveryToken);
    const stored = await this.ctx.store.getDeviceList(frame.accountId);
    this.host.send({ type: 'device_list', id: frame.id, deviceList: stored?.bytes ?? new Uint8Array(0) });
  }

  /** As fetch_bundles, but only devices of the signed list, and the list with them. */
  async fetchDeviceBundles(frame: FetchDeviceBundlesFrame): Promise<void> {
    const { store, verifier } = this.ctx;
    if (!(await store.accountExists(frame.accountId))) throw new RelayError('UNKNOWN_ACCOUNT', 'unknown account');
    await this.requireAccess(frame.accountId, frame.deliveryToken);
    const stored = await store.getDeviceList(frame.accountId);
    // Verified when it was put; decoding only (a stored list is trusted storage).
    const list = stored === undefined ? null : decodeDeviceList(stored.bytes);
    const taken = await store.takePreKeyBundles(frame.accountId);
    if (taken === undefined) throw new RelayError('UNKNOWN_ACCOUNT', 'unknown account');
    const listed = taken.filter((t) => list === null || deviceListIncludes(list, decodeDeviceCertificate(t.device.certificate)));
    if (listed.length === 0) throw new RelayError('NO_PREKEYS', 'no listed device of this account has uploaded prekeys');
    const bundles = listed.map((t) => verifier.encodeBundle(t.device.certificate, t.signedPreKey, t.oneTimePreKey, t.kemPreKey));
    this.host.send({ type: 'device_bundles', id: frame.id, deviceList: stored?.bytes ?? new Uint8Array(0), bundles });
  }



  // ---- provisioning ------------------------------------------------------------------

  async provisionOpen(frame: ProvisionOpenFrame): Promise<void> {
    if (this.slot !== null) throw new RelayError('PROVISIONING_CLOSED', 'this connection already waits on a provisioning mailbox');
    const now = this.ctx.clock.now();
    if ((await this.ctx.store.openProvisioning(frame.provisioningId, now, now + PROVISIONING_TTL_MS)) === 'exists') {
      throw new RelayError('PROVISIONING_CLOSED', 'provisioning id in use');
    }
    const slot = new ProvisioningSlot(frame.provisioningId, provisioningKey(frame.provisioningId), this.ctx, this.host);
    this.slot = slot;
    this.ctx.devices.claim(slot.key, slot);
    this.host.send({ type: 'ok', id: frame.id });
    slot.wake();
  }

  async provisionSend(frame: ProvisionSendFrame): Promise<void> {
    const outcome = await this.ctx.store.putProvisioningMessage(frame.provisioningId, frame.envelope, this.ctx.clock.now());
    if (outcome === 'unknown') throw new RelayError('UNKNOWN_PROVISIONING', 'no open provisioning mailbox with this id');
    if (outcome === 'full') throw new RelayError('PROVISIONING_CLOSED', 'provisioning mailbox already holds its message');
    this.host.send({ type: 'ok', id: frame.id });
    this.ctx.devices.notify(provisioningKey(frame.provisioningId));
  }
}

/**
 * register of a device whose account has a signed list: the device must be in it (the list is
 * signed by the account key, so nobody without that key can add a device). Throws DEVICE_NOT_LISTED.
 * A free function so that a registering connection does not create its LinkedDevices.
 */
export async function requireListed(ctx: RelayContext, accountId: Uint8Array, certificate: Uint8Array): Promise<void> {
  const stored = await ctx.store.getDeviceList(accountId);
  if (stored === undefined) return;
  if (!deviceListIncludes(decodeDeviceList(stored.bytes), decodeDeviceCertificate(certificate))) {
    throw new RelayError('DEVICE_NOT_LISTED', 'device is not in the account device list');
  }
}
