/**
 * Key-change detection (DESIGN: "a key change blocks sending until the user acknowledges it").
 * A contact IS its account key, so what can change under a known contact is its device set.
 */
import { equalBytes, toHex } from '@pigeon/crypto';
import { decodeDeviceCertificate } from '@pigeon/protocol';
import type { DeviceCertificate } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import type { SafetyEventRow } from '../store/types.js';
import type { ClientCore } from './context.js';

/**
 * A device certificate whose device (signing key) or X25519 identity key we have not seen before.
 * The first devices we learn for a contact are not a change. Records the event, drops the
 * verified mark. Must run inside a store transaction, BEFORE the device row is stored.
 */
export function noteDevice(core: ClientCore, contactId: string, deviceId: string, certificate: DeviceCertificate): SafetyEventRow | null {
  // A device the contact's account-signed list names is vouched for by the account key itself (docs/protocol.md §13.1).
  if (core.devices.heldList(contactId) !== null && core.devices.isListed(contactId, certificate)) return null;
  const known = core.store.listContactDevices(contactId);
  if (known.length === 0) return null;
  const same = known.find((d) => d.deviceId === deviceId);
  if (same && equalBytes(decodeDeviceCertificate(same.certificate).deviceIdentityKey, certificate.deviceIdentityKey)) return null;
  const event: SafetyEventRow = {
    id: toHex(core.crypto.randomBytes(16)),
    contactId,
    kind: 'key_changed',
    deviceId,
    at: core.now(),
    acknowledged: false,
  };
  core.store.addSafetyEvent(event);
  const row = core.store.getContact(contactId);
  if (row?.verified) core.store.putContact({ ...row, verified: false });
  return event;
}

/** After the commit that recorded them: tell listeners. */
export function emitKeyChanges(core: ClientCore, events: readonly SafetyEventRow[]): void {
  for (const e of events) {
    core.log('contact.key_changed');
    core.events.emit('safety', { ...e }, core.listenerError);
    const row = core.store.getContact(e.contactId);
    if (row) core.events.emit('contact', core.contactOf(row), core.listenerError);
  }
}

export function refuseIfKeyChanged(core: ClientCore, contactId: string): void {
  if (core.keyChangePending(contactId)) {
    throw new ClientError('IDENTITY_CHANGED', 'this contact\'s keys changed; acknowledge the change before sending');
  }
}
