/**
 * The ceiling: a bare `ws` forwarder with no storage, no signature checks and no limits. It
 * speaks just enough of the Pigeon frames (same codec, same sizes) that the drivers run the
 * identical client code: `auth` binds the claimed device id to the socket, `send` is forwarded
 * at once as `deliver` to the recipient's socket (dropped when it is offline) and answered `ok`,
 * `ack` is answered `ok` (a quiet ack, id 0, gets no reply). Prints {"event":"listening","url":...} like the relay's bin.
 * Run: node bench/dist/src/load/bare-forwarder.js
 */
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { QUIET_ACK_ID, decodeClientFrame, encodeRelayFrame } from '@pigeon/api';

const MAX_PAYLOAD = 266_240;
const sockets = new Map<string, WebSocket>();
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, backlog: 4096 } as ConstructorParameters<typeof WebSocketServer>[0]);

server.on('connection', (ws) => {
  let me: string | undefined;
  ws.send(encodeRelayFrame({ type: 'challenge', nonce: new Uint8Array(randomBytes(32)), relayTime: Date.now() }));
  ws.on('error', () => {});
  ws.on('close', () => {
    if (me !== undefined && sockets.get(me) === ws) sockets.delete(me);
  });
  ws.on('message', (data: Buffer) => {
    let frame;
    try {
      frame = decodeClientFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch {
      return;
    }
    switch (frame.type) {
      case 'auth':
        me = hex(frame.deviceId);
        sockets.set(me, ws);
        break;
      case 'send': {
        const to = sockets.get(hex(frame.recipientDeviceId));
        to?.send(encodeRelayFrame({ type: 'deliver', messageId: frame.messageId, receivedAt: Date.now(), envelope: frame.envelope }));
        break;
      }
      case 'ping':
        ws.send(encodeRelayFrame({ type: 'pong', id: frame.id }));
        return;
      case 'ack':
        if (frame.id === QUIET_ACK_ID) return; // quiet: no reply, as the relay does
        break;
      default:
        break;
    }
    ws.send(encodeRelayFrame({ type: 'ok', id: frame.id }));
  });
});

server.on('listening', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(JSON.stringify({ event: 'listening', url: `ws://127.0.0.1:${port}/pigeon` }) + '\n');
});

const stop = (): void => {
  for (const ws of server.clients) ws.terminate();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
