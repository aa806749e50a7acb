/**
 * Ack batching (docs/message-life.md, "Acks"): an ack is queued only after the delivery's state
 * is committed, so nothing waits for the relay's answer (a round trip per message made a large
 * backlog take minutes on a slow route). Acks go out on the next tick in frames of up to MAX_ACK_IDS.
 */
import { MAX_ACK_IDS } from '@pigeon/api';
import { errorCode, expectOk } from './checks.js';
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
    conn.request({ type: 'ack', messageIds }).then(
      (reply) => expectOk(reply, 'ack'),
      (err: unknown) => {
        // The relay will deliver them again; the seen-id check makes that harmless.
        core.log('inbox.ack_failed', { code: errorCode(err), count: messageIds.length });
      },
    ).catch((err: unknown) => core.log('inbox.ack_failed', { code: errorCode(err), count: messageIds.length }));
  }
}
