/**
 * Sealing for devices (client API, "Sending"): sessions started from bundles, content encrypted
 * in each device's ratchet session and sealed (sealed sender) into an outbox row with a random
 * relay messageId. Everything here runs inside the serial queue and commits nothing itself:
 * callers commit the result with `commitSealed` in their one transaction.
 */
import { equalBytes, fromHex, toHex } from '@pigeon/crypto';
import {
  decodeDeviceCertificate,
  decodePreKeyBundle,
  decodeSessionRecord,
  deviceIdOf,
  encodeDeviceCertificate,
  encodeSessionRecord,
  hasActiveSession,
  initiateSession,
  sealMessage,
  sessionEncrypt,
} from '@pigeon/protocol';
import type { DeviceCertificate, DeviceKeys, SessionRecord } from '@pigeon/protocol';
import { encodeContent } from '../content.js';
import type { Content } from '../content.js';
import { ClientError } from '../errors.js';
import type { ContactRow, OutboxRow, SafetyEventRow } from '../store/types.js';
import { errorCode } from './checks.js';
import type { ClientCore, SealedFor } from './context.js';
import { emitKeyChanges, noteDevice } from './key-changes.js';
import { fetchBundles } from './relays.js';

export interface BundleSession {
  readonly deviceId: string;
  readonly certificate: DeviceCertificate;
  readonly record: SessionRecord;
}

/**
 * A session started from one bundle of `accountKey`'s devices (continuing a stored record for the
 * device); null when the bundle belongs to another account or is skipped by `skip(deviceId)`.
 * Throws on a bad bundle (callers log and go on).
 */
export async function sessionFromBundle(
  core: ClientCore,
  device: DeviceKeys,
  bytes: Uint8Array,
  accountKey: Uint8Array,
  skip?: (deviceId: string) => boolean,
): Promise<BundleSession | null> {
  const bundle = decodePreKeyBundle(bytes);
  if (!equalBytes(bundle.certificate.accountKey, accountKey)) return null;
  const deviceId = toHex(await deviceIdOf(core.crypto, bundle.certificate.deviceSigningKey));
  if (skip?.(deviceId)) return null;
  const stored = core.store.getSession(deviceId);
  const record = await initiateSession(core.crypto, device, stored ? decodeSessionRecord(stored) : undefined, bundle, core.now());
  return { deviceId, certificate: bundle.certificate, record };
}

export async function sealToDevice(
  core: ClientCore,
  contact: ContactRow,
  deviceId: string,
  certificate: DeviceCertificate,
  record: SessionRecord,
  plaintext: Uint8Array,
  messageId: string | null,
): Promise<{ row: OutboxRow; record: SessionRecord }> {
  const k = core.keys();
  const now = core.now();
  const encrypted = await sessionEncrypt(core.crypto, record, plaintext, now);
  const envelope = await sealMessage(core.crypto, k.device, certificate, encrypted.message);
  const row: OutboxRow = {
    relayMessageId: toHex(core.crypto.randomBytes(16)),
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

/** Seals content for every device of the contact that has an active session (fetching bundles if none has). */
export async function sealForContact(core: ClientCore, contact: ContactRow, content: Content, messageId: string | null): Promise<SealedFor> {
  const plaintext = encodeContent(content);
  // With a signed device list held for the contact: exactly its devices (sessions started for new ones).
  let listed = await core.devices.listedIds(contact.id);
  if (!listed && core.devices.neverFetched(contact.id)) {
    // Once per contact: learn its signed device list (a device linked later may not have it).
    await establishSessions(core, contact).catch((err: unknown) => core.log('session.list_fetch_failed', { code: errorCode(err) }));
    listed = await core.devices.listedIds(contact.id);
  }
  const sealed = await sealForDevices(core, contact, plaintext, messageId, listed);
  if (sealed.rows.length === 0) throw new ClientError('RELAY_REJECTED', 'no device of this contact can be reached');
  return sealed;
}

/**
 * Seals for the listed devices of a contact (every device when `only` is absent) that have an
 * active session, then starts sessions from fresh bundles for listed devices still missing (or
 * for every device when none had a session).
 */
export async function sealForDevices(core: ClientCore, contact: ContactRow, plaintext: Uint8Array, messageId: string | null, only?: ReadonlySet<string>): Promise<SealedFor> {
  const own = core.keys().profile.deviceId;
  const sealed: SealedFor = { rows: [], sessions: [] };
  const attempt = async (): Promise<void> => {
    for (const d of core.store.listContactDevices(contact.id)) {
      if (d.deviceId === own || (only && !only.has(d.deviceId)) || sealed.sessions.some((s) => s.deviceId === d.deviceId)) continue;
      const certificate = decodeDeviceCertificate(d.certificate);
      // A device the account's signed list does not name (revoked) gets nothing.
      if (!core.devices.isListed(contact.id, certificate)) continue;
      const stored = core.store.getSession(d.deviceId);
      const record = stored ? decodeSessionRecord(stored) : undefined;
      if (!record || !hasActiveSession(record)) continue;
      const out = await sealToDevice(core, contact, d.deviceId, certificate, record, plaintext, messageId);
      sealed.rows.push(out.row);
      sealed.sessions.push({ deviceId: d.deviceId, record: out.record });
    }
  };
  await attempt();
  const missing = only ? [...only].filter((id) => id !== own && !sealed.sessions.some((s) => s.deviceId === id)) : [];
  if (sealed.rows.length > 0 && missing.length === 0) return sealed;
  await establishSessions(core, contact, only ? new Set(missing) : undefined);
  await attempt();
  return sealed;
}

/** Starts sessions with every device of a contact from fresh bundles (needs the relay). */
export async function establishSessions(core: ClientCore, contact: ContactRow, only?: ReadonlySet<string>): Promise<void> {
  const k = core.keys();
  const self = contact.id === k.profile.accountId;
  const bundles = await fetchBundles(core, contact.relayUrl, fromHex(contact.id), contact.deliveryToken, contact.accountKey);
  const changes: SafetyEventRow[] = [];
  for (const bytes of bundles) {
    try {
      const started = await sessionFromBundle(core, k.device, bytes, contact.accountKey, (id) => id === k.profile.deviceId || (only !== undefined && !only.has(id)));
      if (!started) continue;
      const { deviceId, certificate, record } = started;
      core.store.transaction(() => {
        const change = self ? null : noteDevice(core, contact.id, deviceId, certificate);
        if (change) changes.push(change);
        core.store.putContactDevice({ contactId: contact.id, deviceId, certificate: encodeDeviceCertificate(certificate) });
        core.store.putSession(deviceId, contact.id, encodeSessionRecord(record));
      });
    } catch (err) {
      core.log('session.bad_bundle', { code: errorCode(err) });
    }
  }
  emitKeyChanges(core, changes);
}

/** Our own account as a pseudo-contact: its other devices get what we send (sent-message sync, groups). */
export function selfContact(core: ClientCore): ContactRow {
  const k = core.keys();
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

/** Sent-message sync: `content` sealed to our other listed devices, or null when we have none. */
export async function sealOwnSync(core: ClientCore, contactId: string, content: Content): Promise<SealedFor | null> {
  if (!core.devices.hasOtherOwnDevices()) return null;
  const self = selfContact(core);
  try {
    const plaintext = encodeContent(core.devices.syncContent(contactId, content));
    return await sealForDevices(core, self, plaintext, null, await core.devices.listedIds(self.id));
  } catch (err) {
    core.log('sync.failed', { code: errorCode(err) });
    return null;
  }
}

/** Must run inside a store transaction. */
export function commitSealed(core: ClientCore, contactId: string, sealed: SealedFor): void {
  for (const s of sealed.sessions) core.store.putSession(s.deviceId, contactId, encodeSessionRecord(s.record));
  for (const row of sealed.rows) core.store.putOutbox(row);
}
