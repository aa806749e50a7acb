/**
 * The outbox (client API, "Sending"): rows hold sealed envelopes with a random relay messageId,
 * so a resend is byte-identical and the relay dedupes. The pump sends what it can (at most
 * MAX_SENDS_IN_FLIGHT), settles each answer (permanent refusal, retry after SEND_RETRY_MS or
 * the relay's retryAfter, or accepted) and moves messages queued -> sent | failed.
 */
import { RelayError } from '@pigeon/api';
import { fromHex } from '@pigeon/crypto';
import { encodeContent } from '../content.js';
import type { Content } from '../content.js';
import type { SendOutcome, SendTarget } from '../internals.js';
import { CONTENT_ID_BYTES } from '../limits.js';
import type { MessageRow, OutboxRow } from '../store/types.js';
import { errorCode } from './checks.js';
import { toStored } from './context.js';
import type { ClientCore, SealedFor } from './context.js';
import { anonConnection } from './relays.js';
import { commitSealed, sealForContact, sealForDevices, selfContact } from './sealing.js';

/** Relay errors after which resending the same envelope can never succeed. */
const PERMANENT_SEND_ERRORS = new Set(['UNKNOWN_RECIPIENT', 'BAD_DELIVERY_TOKEN', 'BAD_FRAME', 'FRAME_TOO_LARGE', 'LIMIT_EXCEEDED']);
/** Outbox entries on the wire at once per pump. */
export const MAX_SENDS_IN_FLIGHT = 32;
/** Wait before retrying a send that failed for a transient reason (the relay may say longer). */
export const SEND_RETRY_MS = 2_000;

/** After new rows were committed: tell listeners the outbox size and send. */
export function outboxGrew(core: ClientCore): void {
  core.events.emit('outbox', core.store.countOutbox());
  pumpOutbox(core);
}

/** Sends every outbox entry whose relay connection is up; safe to call any time. */
export function pumpOutbox(core: ClientCore): void {
  if (core.closed || !core.identity) return;
  const { inFlight } = core.sending;
  for (const row of core.store.listOutbox()) {
    if (inFlight.size >= MAX_SENDS_IN_FLIGHT) return;
    if (inFlight.has(row.relayMessageId)) continue;
    if (!core.wantOnline && !core.anon.has(row.relayUrl)) continue;
    const conn = anonConnection(core, row.relayUrl);
    if (conn.state() !== 'connected') continue;
    inFlight.add(row.relayMessageId);
    conn
      .request({
        type: 'send',
        messageId: fromHex(row.relayMessageId),
        recipientDeviceId: fromHex(row.recipientDeviceId),
        deliveryToken: row.deliveryToken,
        envelope: row.envelope,
      })
      .then(
        () => onSendSettled(core, row, null),
        (err: unknown) => onSendSettled(core, row, err),
      );
  }
}

function onSendSettled(core: ClientCore, row: OutboxRow, err: unknown): void {
  const state = core.sending;
  state.inFlight.delete(row.relayMessageId);
  if (core.closed) return;
  const permanent = err instanceof RelayError && PERMANENT_SEND_ERRORS.has(err.code);
  if (err && !permanent) {
    core.log('outbox.retry', { code: errorCode(err) });
    const wait = err instanceof RelayError && err.retryAfterMs > 0 ? err.retryAfterMs : SEND_RETRY_MS;
    if (!state.retryTimer) {
      state.retryTimer = setTimeout(() => {
        state.retryTimer = null;
        pumpOutbox(core);
      }, wait);
    }
    return;
  }
  if (permanent) core.log('outbox.rejected', { code: errorCode(err) });
  let changed: MessageRow | undefined;
  let settledElsewhere: { messageId: string; accepted: boolean } | undefined;
  core.store.transaction(() => {
    core.store.deleteOutbox(row.relayMessageId);
    if (row.messageId === null) return;
    if (!permanent) state.acceptedSome.add(row.messageId);
    if (core.store.countOutbox(row.messageId) > 0) return;
    // Every device's envelope has settled: 'sent' if the relay took at least one (a refused
    // device, e.g. one that was removed, must not fail the message for the others), else 'failed'.
    const someAccepted = state.acceptedSome.delete(row.messageId) || !permanent;
    const message = core.store.getMessage(row.messageId);
    // Not a one-to-one message (a group message): its owner moves it (ClientInternals.onSettled).
    if (!message) {
      settledElsewhere = { messageId: row.messageId, accepted: someAccepted };
      return;
    }
    if (message.state !== 'queued') return;
    const next = someAccepted ? 'sent' : 'failed';
    core.store.setMessageState(message.id, next);
    changed = { ...message, state: next };
  });
  if (changed) core.events.emit('status', toStored(changed), core.listenerError);
  const other = settledElsewhere as { messageId: string; accepted: boolean } | undefined;
  if (other) {
    for (const fn of core.settledListeners) {
      try {
        fn(other.messageId, other.accepted);
      } catch (err) {
        core.listenerError(err);
      }
    }
  }
  core.events.emit('outbox', core.store.countOutbox());
  queuePump(core);
}

/**
 * The relay answers a burst of sends together (one socket read, many settles): one pump after
 * the burst lists the outbox once instead of once per answer (which made a 1,000-member group
 * message cost O(n²) outbox reads).
 */
function queuePump(core: ClientCore): void {
  if (core.sending.pumpQueued) return;
  core.sending.pumpQueued = true;
  queueMicrotask(() => {
    core.sending.pumpQueued = false;
    pumpOutbox(core);
  });
}

/** Lock-free (runs in the serial queue): see ClientInternals.sendContent. */
export async function sendContent(core: ClientCore, targets: readonly SendTarget[], content: Content, messageId: string | null, commit?: () => void): Promise<SendOutcome> {
  const k = core.keys();
  const plaintext = encodeContent(content);
  const all: { contactId: string; sealed: SealedFor }[] = [];
  const unreachable: string[] = [];
  for (const t of targets) {
    const contact = t.contactId === k.profile.accountId ? selfContact(core) : core.store.getContact(t.contactId);
    if (!contact) {
      unreachable.push(t.contactId);
      continue;
    }
    try {
      const sealed = await sealForDevices(core, contact, plaintext, messageId, t.deviceIds);
      if (sealed.rows.length === 0) unreachable.push(t.contactId);
      else all.push({ contactId: contact.id, sealed });
    } catch (err) {
      core.log('send.unreachable', { code: errorCode(err) });
      unreachable.push(t.contactId);
    }
  }
  core.store.transaction(() => {
    for (const s of all) commitSealed(core, s.contactId, s.sealed);
    commit?.();
  });
  const envelopes = all.reduce((n, s) => n + s.sealed.rows.length, 0);
  if (envelopes > 0) outboxGrew(core);
  return { envelopes, unreachable };
}

/** Seals a delivery ('receipt') or read receipt to every device of the contact. Runs in the serial queue; never throws. */
export async function queueReceipt(core: ClientCore, contactId: string, ids: Uint8Array[], type: 'receipt' | 'read'): Promise<void> {
  try {
    const contact = core.contactRow(contactId);
    const sealed = await sealForContact(core, contact, { type, id: core.crypto.randomBytes(CONTENT_ID_BYTES), sentAt: core.now(), ids }, null);
    core.store.transaction(() => commitSealed(core, contactId, sealed));
    outboxGrew(core);
  } catch (err) {
    core.log('receipt.failed', { code: errorCode(err) });
  }
}
