/**
 * Servers for lab tests, on 127.0.0.1 and port 0 (read the bound port from the result):
 *   'echo'            TCP (or TLS) echo;
 *   'website'         an ordinary HTTP(S) website: a page for every GET, 400 for garbage, and
 *                     upgrade requests answered with the page, as a site without WebSockets does;
 *   'websocket-only'  a naive WebSocket endpoint: 101 to any upgrade (replays too), 426 to anything
 *                     else, the kind of server active probing exposes.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { testCertificate } from './test-certificate.js';

export type TestServerKind = 'echo' | 'website' | 'websocket-only';

export interface TestServerOptions {
  readonly kind: TestServerKind;
  /** Serve TLS: true for the lab test certificate, or a given cert/key. */
  readonly tls?: boolean | { readonly cert: string; readonly key: string };
  readonly host?: string;
}

export interface TestServer {
  readonly host: string;
  readonly port: number;
  /** "host:port", as rules take destinations. */
  readonly endpoint: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const WEBSITE_PAGE = '<!doctype html><html><head><title>Welcome</title></head><body><h1>It works</h1></body></html>\n';

function page(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(WEBSITE_PAGE) });
  res.end(WEBSITE_PAGE);
}

function upgradeAsPage(_req: IncomingMessage, socket: Duplex): void {
  socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(WEBSITE_PAGE)}\r\nconnection: close\r\n\r\n${WEBSITE_PAGE}`);
}

function acceptWebSocket(req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
}

function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain', 'content-length': 16, upgrade: 'websocket' });
  res.end('Upgrade Required');
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const creds = options.tls === true ? testCertificate() : options.tls === false || options.tls === undefined ? undefined : options.tls;
  const tlsOptions = creds === undefined ? undefined : { cert: creds.cert, key: creds.key };
  let server: Server;
  switch (options.kind) {
    case 'echo': {
      const echo = (socket: Socket) => {
        socket.on('error', () => undefined);
        socket.pipe(socket);
      };
      server = tlsOptions === undefined ? createNetServer(echo) : createTlsServer(tlsOptions, echo);
      break;
    }
    case 'website':
    case 'websocket-only': {
      const onRequest = options.kind === 'website' ? page : upgradeRequired;
      const http = tlsOptions === undefined ? createHttpServer(onRequest) : createHttpsServer(tlsOptions, onRequest);
      http.on('upgrade', options.kind === 'website' ? upgradeAsPage : acceptWebSocket);
      server = http;
      break;
    }
  }
  let connections = 0;
  const sockets = new Set<Socket>();
  // 'connection' fires for the raw TCP socket of every server kind (before TLS).
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    endpoint: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
