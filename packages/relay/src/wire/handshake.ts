/**
 * The server side of the WebSocket opening handshake (RFC 6455 4.2). No subprotocols and no
 * extensions are offered (compression of sealed envelopes gains nothing and costs memory per
 * connection), so the answer is always the same four headers.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Base64 of 16 bytes. */
const KEY_SHAPE = /^[+/0-9A-Za-z]{22}==$/;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (SHA-1 as the RFC fixes it; not used for security). */
export function acceptValue(key: string): string {
  return createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
}

/** The client's key when `req` is a well-formed version-13 upgrade request, else undefined. */
export function upgradeKey(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return undefined;
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return undefined;
  if (req.headers['sec-websocket-version'] !== '13') return undefined;
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY_SHAPE.test(key.trim())) return undefined;
  return key.trim();
}

/** Writes the 101 answer; the socket then carries WebSocket frames. */
export function acceptUpgrade(socket: Duplex, key: string): void {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' + 'Upgrade: websocket\r\n' + 'Connection: Upgrade\r\n' + `Sec-WebSocket-Accept: ${acceptValue(key)}\r\n\r\n`,
  );
}
