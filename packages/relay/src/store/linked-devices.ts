/**
 * The part of the RelayStore contract that serves linked devices (docs/relay-api.md "Linked
 * devices"): the account's signed device list and the short-lived provisioning mailboxes.
 *
 * Contract (on top of types.ts):
 * - `putDeviceList` is atomic: the counter check, the new list, and the removal of every device of
 *   the account that the list no longer names (device row, prekeys, mailbox) commit together, so a
 *   relay never holds a newer list next to a device it revoked;
 * - a provisioning mailbox holds at most one message and is deleted when that message is taken;
 *   expired mailboxes are never answered and are deleted lazily (on the next open).
 */

/** The signed DeviceList as the relay keeps it: the bytes it serves, and their counter. */
export interface StoredDeviceList {
  readonly counter: number;
  readonly bytes: Uint8Array;
}

export type PutDeviceListResult =
  | { readonly outcome: 'stored'; readonly removed: readonly Uint8Array[] }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'stale' };

export interface LinkedDeviceStore {
  getDeviceList(accountId: Uint8Array): Promise<StoredDeviceList | undefined>;
  /**
   * Stores `list` when its counter is above the stored one ('stale' otherwise; the same counter
   * with the same bytes is 'unchanged'), and deletes every device of the account that is not in
   * `listedDeviceIds`, with its prekeys and mailbox; returns the ids it deleted.
   */
  putDeviceList(accountId: Uint8Array, list: StoredDeviceList, listedDeviceIds: readonly Uint8Array[]): Promise<PutDeviceListResult>;

  /** Opens an empty provisioning mailbox; 'exists' when the id is already open and unexpired. */
  openProvisioning(provisioningId: Uint8Array, now: number, expiresAt: number): Promise<'opened' | 'exists'>;
  /** 'unknown' when no unexpired mailbox has the id, 'full' when it already holds its message. */
  putProvisioningMessage(provisioningId: Uint8Array, envelope: Uint8Array, now: number): Promise<'stored' | 'unknown' | 'full'>;
  /** The message of an unexpired mailbox, deleting the mailbox with it; undefined when there is none (yet). */
  takeProvisioningMessage(provisioningId: Uint8Array, now: number): Promise<Uint8Array | undefined>;
}
