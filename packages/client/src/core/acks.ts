/**
 * Ack batching (docs/message-life.md, "Acks"): an ack is queued only after the delivery's state
 * is committed, and goes out on the next tick in frames of up to MAX_ACK_IDS. Acks are quiet
 * (docs/relay-api.md "Request ids"): the relay sends no reply, so nothing waits for one (a round
 * trip per message made a large backlog take minutes on a slow route) and no timer is kept per
 * ack. A lost or failed ack only means the message is delivered again; the seen-id check drops it.
 */
import { MAX_ACK_IDS } from '@pigeon/api';
import type { ClientCore } from './context.js';

export function ack(core: ClientCore, relayMessageId: Uint8Array): void {
  const state = core.acks;
  state.pending.push(relayMessageId);
  if (state.timer || core.closed) return;
  state.timer = setTimeout(() => {
    state.timer = null;
    flushAcks(core);
  }, 0);
}

function flushAcks(core: ClientCore): void {
  const conn = core.auth;
  const state = core.acks;
  while (state.pending.length > 0 && conn && !core.closed) {
    const messageIds = state.pending.splice(0, MAX_ACK_IDS);
    // Not sent (the socket just dropped): the relay delivers them again after the reconnect.
    if (!conn.sendQuietAck(messageIds)) core.log('inbox.ack_failed', { code: 'RELAY_UNREACHABLE', count: messageIds.length });
  }
}
