/**
 * receive() must not wait for the relay's answer to an ack before processing the next delivery
 * (one round trip per message made a 1,000-message backlog take minutes on a slow route). The
 * test withholds every reply to an ack: the old code stalled for a request timeout per message,
 * the batched acks let the whole backlog through. Acks are quiet (QUIET_ACK_ID): the relay sends
 * no reply at all, and still empties the mailbox.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_ACK_IDS, QUIET_ACK_ID, decodeClientFrame, decodeRelayFrame } from '@pigeon/api';
import { nodeSocketFactory } from '../src/index.node.js';
import type { SocketFactory } from '../src/index.node.js';
import { connectedPair, openClient, startRelay, tempDir } from './helpers.js';

const root = tempDir('acks');
after(() => root.remove());

describe('ack batching', () => {
  it('processes a backlog without waiting for ack replies, acking every delivery in frames of at most MAX_ACK_IDS', async () => {
    const relay = await startRelay(join(root.path, 'relay'));
    const { alice, bob, bobId, bobHome } = await connectedPair(relay.url, { alice: join(root.path, 'a'), bob: join(root.path, 'b') });
    await bob.close();
    const BACKLOG = 120;
    for (let i = 0; i < BACKLOG; i++) await alice.send(bobId, `m${i}`);
    await alice.flush();

    const ackRequests = new Set<number>();
    const ackSizes: number[] = [];
    let ackReplies = 0;
    const withholding: SocketFactory = (url, handlers) => {
      const socket = nodeSocketFactory(url, {
        ...handlers,
        onMessage(data) {
          try {
            const frame = decodeRelayFrame(data);
            if ((frame.type === 'ok' || frame.type === 'error') && ackRequests.has(frame.id)) {
              ackReplies++;
              return; // the reply never comes
            }
          } catch {
            // not ours to judge
          }
          handlers.onMessage(data);
        },
      });
      return {
        send(data) {
          try {
            const frame = decodeClientFrame(data);
            if (frame.type === 'ack') {
              ackRequests.add(frame.id);
              ackSizes.push(frame.messageIds.length);
            }
          } catch {
            // not an ack
          }
          socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
      };
    };
    // A request timeout far longer than the test: waiting for even one ack reply would fail it.
    const bob2 = await openClient(bobHome, { socketFactory: withholding, connection: { requestTimeoutMs: 600_000, reconnectBaseMs: 50, reconnectMaxMs: 400 } });
    let received = 0;
    const all = new Promise<void>((resolve) => {
      bob2.on('message', () => {
        if (++received === BACKLOG) resolve();
      });
    });
    await bob2.connect();
    await all;
    await bob2.sync();
    assert.equal(bob2.messages(bob2.contacts()[0]!.id).length, BACKLOG);
    // Acks are flushed on the next tick after the commit: wait until every delivery was acked.
    for (let i = 0; i < 200 && ackSizes.reduce((a, b) => a + b, 0) < BACKLOG; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ackSizes.reduce((a, b) => a + b, 0) >= BACKLOG, 'every delivery acked');
    assert.ok(ackSizes.every((k) => k >= 1 && k <= MAX_ACK_IDS));
    assert.deepStrictEqual([...ackRequests], [QUIET_ACK_ID], 'every ack is quiet');
    // The relay applied them: a reconnect gets no delivery at all (the mailbox is empty). Counted
    // on the wire, since the client would drop a redelivered message by id without an event.
    await bob2.close();
    let again = 0;
    const counting: SocketFactory = (url, handlers) =>
      nodeSocketFactory(url, {
        ...handlers,
        onMessage(data) {
          if (decodeRelayFrame(data).type === 'deliver') again++;
          handlers.onMessage(data);
        },
      });
    const bob3 = await openClient(bobHome, { socketFactory: counting });
    await bob3.connect();
    await bob3.sync();
    assert.equal(again, 0, 'acked messages were delivered again');
    assert.equal(ackReplies, 0, 'the relay answered a quiet ack');
    await bob3.close();
    await alice.close();
    await relay.stop();
  });
});
