/**
 * One-to-one messages from the app's side: a text or an attachment reference is sealed for every
 * device of the contact and for our other devices (sent-message sync) and stored with its outbox rows
 * in one transaction; markRead marks at once and queues read receipts (MAX_RECEIPT_IDS per receipt).
 */
import { fromHex, toHex, utf8 } from '@pigeon/crypto';
import { describeAttachment, storeReference } from '../attachments/messages.js';
import type { AttachmentReference } from '../attachments/reference.js';
import { ClientError } from '../errors.js';
import { CONTENT_ID_BYTES, MAX_RECEIPT_IDS, MAX_TEXT_BYTES } from '../limits.js';
import type { ContactRow, MessageRow } from '../store/types.js';
import type { StoredMessage } from '../types.js';
import { toStored } from './context.js';
import type { ClientCore } from './context.js';
import { resolveContact } from './contacts.js';
import { refuseIfKeyChanged } from './key-changes.js';
import { outboxGrew, queueReceipt } from './outbox.js';
import { commitSealed, sealForContact, sealOwnSync } from './sealing.js';

function outgoing(id: Uint8Array, contactId: string, text: string, sentAt: number): MessageRow {
  return { id: toHex(id), contactId, direction: 'out', text, sentAt, receivedAt: null, state: 'queued', read: true };
}

/**
 * The frame both sends share: argument checks, the key-change block (checked before queueing and
 * again inside the serial queue), then `body` with a fresh content id and send time.
 */
async function sendInQueue<T>(
  core: ClientCore,
  contactId: string,
  validate: () => void,
  body: (contact: ContactRow, id: Uint8Array, sentAt: number) => Promise<T>,
): Promise<T> {
  core.keys();
  const contact = resolveContact(core, contactId);
  validate();
  refuseIfKeyChanged(core, contact.id);
  return core.serial.run(async () => {
    core.open();
    refuseIfKeyChanged(core, contact.id);
    const id = core.crypto.randomBytes(CONTENT_ID_BYTES);
    return body(contact, id, core.now());
  });
}

/** Seals the message for every device of the contact and stores message + outbox in one transaction. */
export function sendText(core: ClientCore, contactId: string, text: string): Promise<StoredMessage> {
  const validate = () => {
    if (text.length === 0) throw new ClientError('BAD_ARGUMENT', 'message is empty');
    if (utf8.encode(text).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `message is longer than ${MAX_TEXT_BYTES} bytes`);
  };
  return sendInQueue(core, contactId, validate, async (contact, id, sentAt) => {
    // With a disappearing timer on, the text carries it (message-life/manager.ts).
    const { content, commit: commitLife } = core.life.outgoingText(contact.id, id, sentAt, text);
    core.life.noteSent(contact.id);
    const sealed = await sealForContact(core, contact, content, toHex(id));
    // Our other devices see what we sent (sent-message sync, devices/payload.ts).
    const synced = await sealOwnSync(core, contact.id, content);
    // Fetching bundles while sealing may just have revealed a new device: nothing is committed then.
    refuseIfKeyChanged(core, contact.id);
    const message = outgoing(id, contact.id, text, sentAt);
    core.store.transaction(() => {
      core.store.insertMessage(message);
      commitLife();
      commitSealed(core, contact.id, sealed);
      if (synced) commitSealed(core, core.keys().profile.accountId, synced);
    });
    // A timed text is `life` content, which sent-message sync does not carry: the life module does.
    await core.life.syncOwn(contact.id, content);
    outboxGrew(core);
    return core.life.decorate(message);
  });
}

/** Seals an already uploaded attachment's reference to every device of the contact (like sendText). */
export function sendAttachmentReference(core: ClientCore, contactId: string, attachment: AttachmentReference, caption: string): Promise<StoredMessage> {
  const validate = () => {
    if (utf8.encode(caption).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `caption is longer than ${MAX_TEXT_BYTES} bytes`);
  };
  return sendInQueue(core, contactId, validate, async (contact, id, sentAt) => {
    const content = { type: 'attachment' as const, id, sentAt, attachment, caption };
    const sealed = await sealForContact(core, contact, content, toHex(id));
    // Our other devices get the reference too, so they can show and download what we sent.
    const synced = await sealOwnSync(core, contact.id, content);
    refuseIfKeyChanged(core, contact.id);
    const message = outgoing(id, contact.id, describeAttachment(attachment, caption), sentAt);
    core.store.transaction(() => {
      core.store.insertMessage(message);
      storeReference(core.store, message.id, attachment);
      commitSealed(core, contact.id, sealed);
      if (synced) commitSealed(core, core.keys().profile.accountId, synced);
    });
    outboxGrew(core);
    return toStored(message);
  });
}

/**
 * Marks incoming messages read (at once: unread() no longer lists them) and, while read
 * receipts are on, queues one read receipt per contact (split at MAX_RECEIPT_IDS) for the ones
 * that were unread. The promise resolves when the receipts are in the outbox; it never rejects
 * for a receipt that could not be sealed (logged as receipt.failed).
 */
export function markRead(core: ClientCore, messageIds: readonly string[]): Promise<void> {
  core.keys();
  const byContact = new Map<string, Uint8Array[]>();
  for (const id of new Set(messageIds)) {
    const m = core.store.getMessage(id);
    if (!m || m.direction !== 'in' || m.read) continue;
    const list = byContact.get(m.contactId) ?? [];
    list.push(fromHex(m.id));
    byContact.set(m.contactId, list);
  }
  core.store.transaction(() => {
    core.store.markRead(messageIds);
    // Incoming disappearing messages start their timer when read (docs/message-life.md).
    core.life.startTimers(messageIds);
  });
  if (byContact.size === 0) return Promise.resolve();
  core.keys();
  if (!core.receiptSettings().readReceipts) return Promise.resolve();
  return core.serial.run(async () => {
    for (const [contactId, ids] of byContact) {
      for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) await queueReceipt(core, contactId, ids.slice(i, i + MAX_RECEIPT_IDS), 'read');
    }
  });
}
