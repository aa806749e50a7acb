/**
 * Invites (docs: client API, "Invites"): a `pigeon://invite/` link carries our relay, account
 * key, a delivery token (the invite's own when the relay confirmed it), name and a single-use
 * secret (INVITE_TTL_MS); accepting one starts
 * sessions with the inviter's devices and queues an introduction carrying the secret back.
 */
import { equalBytes, fromHex, toHex } from '@pigeon/crypto';
import { accountIdOf, encodeDeviceCertificate } from '@pigeon/protocol';
import { encodeContent } from '../content.js';
import type { Content } from '../content.js';
import { ClientError } from '../errors.js';
import { decodeInviteLink, encodeInviteLink } from '../invite-link.js';
import { CONTENT_ID_BYTES, INVITE_SECRET_BYTES } from '../limits.js';
import type { ContactRow, SafetyEventRow } from '../store/types.js';
import type { Contact } from '../types.js';
import { checkName, errorCode } from './checks.js';
import type { ClientCore, SealedFor } from './context.js';
import { emitKeyChanges, noteDevice } from './key-changes.js';
import { pumpOutbox } from './outbox.js';
import { fetchBundles } from './relays.js';
import { commitSealed, sealToDevice, sessionFromBundle } from './sealing.js';
import type { BundleSession } from './sealing.js';

/**
 * The link carries a delivery token of its own (message-life/invite-tokens.ts), so a later block,
 * which rotates our account token, does not break it. That token must be registered at the relay
 * before the link is handed out; when we are not connected, or the relay does not confirm it, the
 * link carries our account token as before.
 */
export async function createInvite(core: ClientCore): Promise<{ link: string }> {
  const k = core.keys();
  const secret = core.crypto.randomBytes(INVITE_SECRET_BYTES);
  const secretHex = toHex(secret);
  const online = core.auth?.state() === 'connected';
  let token: Uint8Array | null = null;
  core.store.transaction(() => {
    core.store.putInvite(secretHex, core.now());
    if (online) token = core.life.issueInviteToken(secretHex);
  });
  if (token !== null) {
    await core.life.syncInviteTokens();
    if (!core.life.inviteTokenRegistered(token)) {
      core.life.dropInviteToken(token);
      token = null;
    }
  }
  const link = encodeInviteLink({
    relayUrl: k.identity.relayUrl,
    accountKey: k.account.signing.publicKey,
    deliveryToken: token ?? k.identity.deliveryToken,
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
export async function acceptInvite(core: ClientCore, link: string, options: { name?: string }): Promise<Contact> {
  const k = core.keys();
  const invite = decodeInviteLink(link);
  if (equalBytes(invite.accountKey, k.account.signing.publicKey)) throw new ClientError('BAD_LINK', 'this is your own invite link');
  const name = options.name !== undefined ? checkName(options.name, 'contact name') : checkName(invite.displayName || 'contact', 'contact name');
  const contactId = toHex(await accountIdOf(core.crypto, invite.accountKey));
  return core.serial.run(async () => {
    core.open();
    const bundles = await fetchBundles(core, invite.relayUrl, fromHex(contactId), invite.deliveryToken, invite.accountKey);
    const existing = core.store.getContact(contactId);
    const row: ContactRow = {
      id: contactId,
      name: options.name !== undefined || !existing ? name : existing.name,
      accountKey: invite.accountKey,
      relayUrl: invite.relayUrl,
      deliveryToken: invite.deliveryToken,
      verified: existing?.verified ?? false,
      addedAt: existing?.addedAt ?? core.now(),
    };
    const devices: BundleSession[] = [];
    for (const bytes of bundles) {
      try {
        const started = await sessionFromBundle(core, k.device, bytes, invite.accountKey);
        if (started) devices.push(started);
      } catch (err) {
        core.log('invite.bad_bundle', { code: errorCode(err) });
      }
    }
    if (devices.length === 0) throw new ClientError('RELAY_REJECTED', 'the relay returned no usable key bundle for this contact');
    const intro: Content = {
      type: 'introduction',
      id: core.crypto.randomBytes(CONTENT_ID_BYTES),
      sentAt: core.now(),
      displayName: k.identity.displayName,
      deliveryToken: k.identity.deliveryToken,
      relayUrl: k.identity.relayUrl,
      inviteSecret: invite.inviteSecret,
    };
    const plaintext = encodeContent(intro);
    const sealed: SealedFor = { rows: [], sessions: [] };
    for (const d of devices) {
      const out = await sealToDevice(core, row, d.deviceId, d.certificate, d.record, plaintext, null);
      sealed.rows.push(out.row);
      sealed.sessions.push({ deviceId: d.deviceId, record: out.record });
    }
    const changes: SafetyEventRow[] = [];
    core.store.transaction(() => {
      core.store.putContact(row);
      for (const d of devices) {
        const change = existing ? noteDevice(core, contactId, d.deviceId, d.certificate) : null;
        if (change) changes.push(change);
        core.store.putContactDevice({ contactId, deviceId: d.deviceId, certificate: encodeDeviceCertificate(d.certificate) });
      }
      commitSealed(core, contactId, sealed);
    });
    emitKeyChanges(core, changes);
    await core.rememberPigeonId(contactId);
    core.log('invite.accepted', { devices: devices.length });
    pumpOutbox(core);
    return core.contactOf(core.store.getContact(contactId) ?? row);
  });
}
