/**
 * The receive pipeline (client API, "Receiving"): one `deliver` is opened (sealed sender),
 * decrypted in the sender device's session, offered to the feature modules that own content
 * types, and committed in ONE store transaction (session, consumed prekeys, contact, message,
 * receipt states). Only then: ack, the feature's `after`, events, delivery receipt.
 */
import { equalBytes, fromHex, toHex } from '@pigeon/crypto';
import { accountIdOf, decodeSessionRecord, deviceIdOf, encodeDeviceCertificate, encodeSessionRecord, openSealedMessage, sessionDecrypt } from '@pigeon/protocol';
import { describeAttachment, storeReference } from '../attachments/messages.js';
import { decodeContent } from '../content.js';
import type { Content } from '../content.js';
import type { ExtensionResult } from '../internals.js';
import { INVITE_TTL_MS } from '../limits.js';
import { normalizeRelayUrl } from '../relay-url.js';
import type { ContactRow, MessageRow, SafetyEventRow } from '../store/types.js';
import type { PushFrame } from '../transport/relay-connection.js';
import type { StoredMessage } from '../types.js';
import { ack } from './acks.js';
import { checkName, errorCode } from './checks.js';
import { toStored } from './context.js';
import type { ClientCore } from './context.js';
import { emitKeyChanges, noteDevice } from './key-changes.js';
import { queueReceipt } from './outbox.js';
import { preKeyStoreOf, topUpPreKeys } from './prekeys.js';

/** How far along each state is; receipts only ever move a message forward. */
const STATE_RANK: Record<StoredMessage['state'], number> = { failed: 0, queued: 0, sent: 1, delivered: 2, read: 3 };

/** What the authenticated connection pushes: deliveries (received in the serial queue) and the end of the backlog. */
export function onPush(core: ClientCore, frame: PushFrame): void {
  if (frame.type === 'queue_empty') {
    void core.serial.run(async () => {
      core.drained = true;
      core.events.emit('drained', true);
      void topUpPreKeys(core);
    });
    return;
  }
  core.serial.run(() => receive(core, frame.messageId, frame.envelope)).catch((err: unknown) => {
    core.log('inbox.failed', { code: errorCode(err) });
  });
}

/** One `deliver`: open, decrypt, commit, ack, emit, receipt. Runs in the serial queue. */
async function receive(core: ClientCore, relayMessageId: Uint8Array, envelope: Uint8Array): Promise<void> {
  if (core.closed) return;
  const k = core.keys();
  const now = core.now();
  let opened: Awaited<ReturnType<typeof openSealedMessage>>;
  try {
    opened = await openSealedMessage(core.crypto, k.device, envelope, now);
  } catch (err) {
    core.log('inbox.undecryptable', { code: errorCode(err) });
    return ack(core, relayMessageId);
  }
  const sender = opened.sender;
  const contactId = toHex(await accountIdOf(core.crypto, sender.accountKey));
  const deviceId = toHex(await deviceIdOf(core.crypto, sender.deviceSigningKey));
  const contact = core.store.getContact(contactId);
  // A device its account's signed list no longer names (revoked) is not heard.
  if (!core.devices.isListed(contactId, sender)) {
    core.log('inbox.unlisted_device_dropped');
    return ack(core, relayMessageId);
  }
  // Blocked (docs/message-life.md): acked, not stored, no receipts.
  if (core.life.isBlocked(contactId)) {
    core.log('inbox.blocked_dropped');
    return ack(core, relayMessageId);
  }
  const stored = core.store.getSession(deviceId);
  let result: Awaited<ReturnType<typeof sessionDecrypt>>;
  try {
    result = await sessionDecrypt(core.crypto, k.device, stored ? decodeSessionRecord(stored) : undefined, preKeyStoreOf(core.store), sender, opened.message, now);
  } catch (err) {
    core.log(errorCode(err) === 'DUPLICATE_MESSAGE' ? 'inbox.duplicate' : 'inbox.decrypt_failed', { code: errorCode(err) });
    return ack(core, relayMessageId);
  }
  let content: Content | null = null;
  try {
    content = decodeContent(result.plaintext);
  } catch (err) {
    core.log('inbox.bad_content', { code: errorCode(err) });
  }

  // Feature modules (groups, devices) own their content types; they decide about unknown senders themselves.
  const fromSelf = equalBytes(sender.accountKey, k.account.signing.publicKey);
  let ext: ExtensionResult | null = null;
  if (content) {
    for (const handle of core.extensions) {
      try {
        ext = await handle({ content, sender, senderId: contactId, senderDeviceId: deviceId, known: contact !== undefined, self: fromSelf, now });
      } catch (err) {
        core.log('inbox.extension_failed', { code: errorCode(err) });
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
    const createdAt = content?.type === 'introduction' ? core.store.getInvite(toHex(content.inviteSecret)) : undefined;
    const invited = content?.type === 'introduction' && createdAt !== undefined && now - createdAt <= INVITE_TTL_MS;
    if (!invited && !(content && core.life.holdable(content))) {
      core.log(content?.type === 'introduction' ? 'inbox.bad_invite_secret' : 'inbox.unknown_sender_dropped');
      return ack(core, relayMessageId);
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
      core.log('inbox.bad_introduction');
      return ack(core, relayMessageId);
    }
    newContact = { id: contactId, name, accountKey: sender.accountKey, relayUrl, deliveryToken: content.deliveryToken, verified: false, addedAt: now };
  }

  let newMessage: MessageRow | null = null;
  const changed: MessageRow[] = [];
  let keyChange: SafetyEventRow | null = null;
  let requestHeld: (() => void) | null = null;
  // Reciprocal read receipts: with ours off, theirs count as delivery receipts (types.ts).
  const showRead = core.receiptSettings().readReceipts;
  const store = core.store;
  store.transaction(() => {
    if (newContact && content?.type === 'introduction') {
      store.putContact(newContact);
      store.deleteInvite(toHex(content.inviteSecret));
      core.life.inviteUsed(toHex(content.inviteSecret), contactId);
    }
    if (contact) keyChange = noteDevice(core, contactId, deviceId, sender);
    store.putContactDevice({ contactId, deviceId, certificate: encodeDeviceCertificate(sender) });
    store.putSession(deviceId, contactId, encodeSessionRecord(result.record));
    if (result.consumed.oneTimePreKeyId !== null) store.deletePreKey('one_time', result.consumed.oneTimePreKeyId);
    if (result.consumed.kemOneTimePreKeyId !== null) store.deletePreKey('kem', result.consumed.kemOneTimePreKeyId);
    if (!content || !store.markSeen(toHex(content.id), now)) {
      ext = null;
      return;
    }
    if (hold) {
      requestHeld = core.life.holdRequest({ senderId: contactId, accountKey: sender.accountKey, content, now });
      return;
    }
    if (ext) {
      ext.commit();
      return;
    }
    if (content.type === 'text') {
      newMessage = { id: toHex(content.id), contactId, direction: 'in', text: content.text, sentAt: content.sentAt, receivedAt: now, state: 'delivered', read: false };
      store.insertMessage(newMessage);
    } else if (content.type === 'attachment') {
      newMessage = { id: toHex(content.id), contactId, direction: 'in', text: describeAttachment(content.attachment, content.caption), sentAt: content.sentAt, receivedAt: now, state: 'delivered', read: false };
      store.insertMessage(newMessage);
      storeReference(store, newMessage.id, content.attachment);
    } else if (content.type === 'receipt' || content.type === 'read') {
      const next = content.type === 'read' && showRead ? 'read' : 'delivered';
      for (const id of content.ids) {
        const m = store.getMessage(toHex(id));
        // Only forward: a late delivery receipt never turns 'read' back into 'delivered'.
        if (!m || m.direction !== 'out' || m.contactId !== contactId || STATE_RANK[m.state] >= STATE_RANK[next]) continue;
        store.setMessageState(m.id, next);
        changed.push({ ...m, state: next });
      }
    }
  });
  ack(core, relayMessageId);
  const extension = ext as ExtensionResult | null;
  if (extension?.after) {
    try {
      await extension.after();
    } catch (err) {
      core.log('inbox.extension_failed', { code: errorCode(err) });
    }
  }

  (requestHeld as (() => void) | null)?.();
  if (newContact) {
    await core.rememberPigeonId(contactId);
    core.log('invite.used');
    // It holds the invite's token, which retires: from now on it uses our account token. Queued
    // before 'contact' is emitted, so a flush after that event includes it.
    await core.life.shareOwnTokenWith(contactId).catch((err: unknown) => core.log('invite.token_share_failed', { code: errorCode(err) }));
    core.events.emit('contact', core.contactOf(newContact), core.listenerError);
  }
  const change = keyChange as SafetyEventRow | null;
  if (change) emitKeyChanges(core, [change]);
  const received = newMessage as MessageRow | null;
  if (received) core.events.emit('message', toStored(received), core.listenerError);
  for (const m of changed) core.events.emit('status', toStored(m), core.listenerError);
  if (received && core.receiptSettings().deliveryReceipts) await queueReceipt(core, contactId, [fromHex(received.id)], 'receipt');
}
