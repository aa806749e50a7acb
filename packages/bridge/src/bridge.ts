/**
 * `pigeon bridge`: an HTTPS server that forwards authenticated WebSocket connections and tunnel
 * sessions to one relay, and is an ordinary website to everyone else (docs/transport.md "Bridge").
 * Authentication: a fresh HMAC token (bridge-auth, @pigeon/transport) in a cookie on every
 * upgrade and every tunnel exchange; a bad MAC, a stale time or a seen nonce all get the website.
 * The relay sees every bridged client as coming from the bridge's address (raise the relay's
 * per-address limits for a busy bridge).
 */
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from '@pigeon/api';
import { defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  ReplayCache,
  decodeTunnelRequest,
  encodeBridgeLink,
  encodeTunnelResponse,
  openRoute,
  realNet,
  tokenFromCookie,
  verifyAuthToken,
  TUNNEL_REQUEST_HEADER_BYTES,
} from '@pigeon/transport';
import type { AuthPurpose, AuthVerdict, BridgeInfo, NetSeams, RelaySocket } from '@pigeon/transport';
import type { BridgeCertificate } from './certificate.js';
import { BridgeError } from './errors.js';
import { TunnelServer } from './tunnel-server.js';
import { refuseUpgrade, serveWebsite } from './website.js';

/** Largest tunnel request body accepted (clients send at most their budget, 8 KB by default). */
export const MAX_TUNNEL_BODY_BYTES = 64 * 1024;
/** Frames a client may send before the relay connection opens. */
export const MAX_PENDING_FRAMES = 256;
/** Idle kept-alive HTTP connections are closed after this (tunnel lanes reuse them). */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface BridgeOptions {
  /** ws:// or wss:// URL of the relay to forward to. */
  readonly relayUrl: string;
  /** Trust anchor (PEM) for a wss:// relay with a private CA. */
  readonly relayCa?: string;
  readonly certificate: BridgeCertificate;
  readonly secret: Uint8Array;
  /** Path of the WebSocket and tunnel endpoints. */
  readonly path: string;
  readonly host?: string;
  readonly port?: number;
  /** What the link says (default: the listening host/port). */
  readonly publicHost?: string;
  readonly publicPort?: number;
  readonly sni?: string;
  readonly front?: string;
  /** How the bridge reaches the relay (tests put a censor here too). */
  readonly net?: NetSeams;
  readonly crypto?: CryptoBackend;
  readonly pollHoldMs?: number;
  readonly now?: () => number;
  /** Secret-free events: auth verdicts, session counts. */
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface BridgeStats {
  websockets: number;
  tunnelExchanges: number;
  refused: Record<AuthVerdict | 'no-token', number>;
}

export interface RunningBridge {
  readonly port: number;
  readonly host: string;
  readonly link: string;
  readonly info: BridgeInfo;
  readonly stats: BridgeStats;
  stop(): Promise<void>;
  toJSON(): unknown;
}

export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  if (!/^wss?:\/\//.test(options.relayUrl)) throw new BridgeError('BAD_OPTION', 'relay URL must be ws:// or wss://');
  if (!options.path.startsWith('/')) throw new BridgeError('BAD_OPTION', 'path must start with /');
  const crypto = options.crypto ?? defaultBackend();
  const net = options.net ?? realNet;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const cache = new ReplayCache();
  const cacheSweep = setInterval(() => cache.sweep(now()), 60_000);
  cacheSweep.unref();
  const stats: BridgeStats = {
    websockets: 0,
    tunnelExchanges: 0,
    refused: { 'no-token': 0, ok: 0, malformed: 0, 'bad-mac': 0, stale: 0, replayed: 0, 'cache-full': 0, 'wrong-purpose': 0 },
  };
  const openUpstream = (handlers: Parameters<typeof openRoute>[1]): RelaySocket => openRoute({ kind: 'direct', url: options.relayUrl, ...(options.relayCa !== undefined ? { ca: options.relayCa } : {}) }, handlers, { net, crypto, now });
  const tunnels = new TunnelServer({
    openUpstream,
    ...(options.pollHoldMs !== undefined ? { pollHoldMs: options.pollHoldMs } : {}),
    now,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });

  const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0];
  const authorize = async (req: IncomingMessage, purpose: AuthPurpose): Promise<boolean> => {
    const token = tokenFromCookie(req.headers.cookie);
    if (token === undefined) {
      stats.refused['no-token']++;
      return false;
    }
    const verdict = await verifyAuthToken(crypto, options.secret, token, purpose, now(), cache);
    if (verdict !== 'ok') {
      stats.refused[verdict]++;
      log('bridge.refused', { verdict, purpose });
      return false;
    }
    return true;
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (pathOf(req) !== options.path || req.method !== 'GET') {
      refuseUpgrade(socket);
      return;
    }
    void authorize(req, 'websocket').then((ok) => {
      if (!ok || socket.destroyed) {
        refuseUpgrade(socket);
        return;
      }
      wss.handleUpgrade(req, socket, head, (client) => bridgeWebSocket(client));
    });
  };

  const bridgeWebSocket = (client: WebSocket) => {
    stats.websockets++;
    const pending: Uint8Array[] = [];
    let upstreamOpen = false;
    const upstream = openUpstream({
      onOpen: () => {
        upstreamOpen = true;
        for (const f of pending) upstream.send(f);
        pending.length = 0;
      },
      onMessage: (d) => {
        if (client.readyState === client.OPEN) client.send(d);
      },
      onClose: (code) => {
        // Pass the relay's close code through when it is one a client may receive.
        const passable = code === 1000 || code === 1001 || (code >= 4000 && code < 5000);
        if (client.readyState === client.OPEN) client.close(passable ? code : 1011);
        else client.terminate();
      },
    });
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (upstreamOpen) upstream.send(frame);
      else if (pending.length < MAX_PENDING_FRAMES) pending.push(frame);
      else client.terminate();
    });
    client.on('error', () => undefined);
    client.on('close', () => upstream.close(1000, 'client left'));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || pathOf(req) !== options.path) {
      serveWebsite(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_TUNNEL_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      void (async () => {
        if (tooBig || size < TUNNEL_REQUEST_HEADER_BYTES || !(await authorize(req, 'tunnel'))) {
          serveWebsite(req, res);
          return;
        }
        let tunnelReq;
        try {
          tunnelReq = decodeTunnelRequest(new Uint8Array(Buffer.concat(chunks)));
        } catch {
          serveWebsite(req, res);
          return;
        }
        stats.tunnelExchanges++;
        const session = tunnelReq.session;
        res.on('close', () => {
          if (!res.writableFinished) tunnels.abandon(session);
        });
        const answer = await tunnels.handle(tunnelReq);
        const body = encodeTunnelResponse(answer);
        if (res.destroyed) return;
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
        res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      })().catch(() => {
        if (!res.headersSent) serveWebsite(req, res);
      });
    });
  };

  const server: Server = createServer(
    {
      cert: options.certificate.cert,
      key: options.certificate.key,
      // Our tunnel client offers h2 like a browser; we speak HTTP/1.1 (as many small sites do).
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
    },
    onRequest,
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('upgrade', onUpgrade);
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err, socket) => {
    // Garbage inside TLS gets what any Node/nginx site answers: 400 and close.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new BridgeError('LISTEN_FAILED', 'cannot listen', { cause: err })));
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const info: BridgeInfo = {
    host: options.publicHost ?? address.address,
    port: options.publicPort ?? address.port,
    certSha256: options.certificate.sha256,
    secret: options.secret,
    relayUrl: options.relayUrl,
    path: options.path,
    ...(options.sni !== undefined ? { sni: options.sni } : {}),
    ...(options.front !== undefined ? { front: options.front } : {}),
  };
  const link = encodeBridgeLink(info);
  const running: RunningBridge & Record<symbol, unknown> = {
    port: address.port,
    host: address.address,
    link,
    info,
    stats,
    // The link and info carry the secret: keep them out of JSON and console.log of this object.
    toJSON: () => ({ type: 'RunningBridge', host: address.address, port: address.port }),
    [Symbol.for('nodejs.util.inspect.custom')]: () => ({ type: 'RunningBridge', host: address.address, port: address.port }),
    async stop() {
      clearInterval(cacheSweep);
      tunnels.close();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return running;
}
