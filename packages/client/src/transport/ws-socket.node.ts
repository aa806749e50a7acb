import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '@pigeon/api';
import type { RelaySocket, SocketFactory, SocketHandlers } from './socket.js';

/** Handshake timeout: a relay that accepts TCP but never answers counts as unreachable. */
export const WS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Node WebSocket factory on top of `ws`. */
export const nodeSocketFactory: SocketFactory = (url: string, handlers: SocketHandlers): RelaySocket => {
  const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: WS_HANDSHAKE_TIMEOUT_MS, perMessageDeflate: false });
  let closed = false;
  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    handlers.onClose(code, reason);
  };
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => handlers.onOpen());
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return; // the relay speaks binary frames only
    handlers.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  });
  // 'error' is always followed by 'close'; listening prevents an unhandled error event.
  ws.on('error', () => undefined);
  ws.on('close', (code: number, reason: Buffer) => finish(code, reason.toString('utf8')));
  return {
    send(data: Uint8Array) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close(code?: number, reason?: string) {
      try {
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code ?? 1000, reason);
      } catch {
        ws.terminate();
      }
    },
  };
};
