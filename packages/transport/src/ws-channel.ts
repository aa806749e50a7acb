/**
 * A WebSocket frame channel over a stream we build ourselves (openStream: DNS, TCP, proxy, TLS and
 * pin). `ws` does the RFC 6455 handshake and framing; we hand it the stream through
 * createConnection and choose the Host header, so the same code serves direct connections,
 * bridges (Host = the bridge, a secret cookie) and domain fronting (TLS to the front, Host = the
 * hidden server).
 */
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '@pigeon/api';
import { BROWSER_USER_AGENT } from './browser-tls.js';
import { CLOSE_ABNORMAL, onceHandlers } from './channel.js';
import type { RelaySocket, SocketHandlers } from './channel.js';
import { PendingSocket } from './pending-socket.js';
import { TransportError } from './errors.js';
import { openStream } from './stream.js';
import type { OpenOptions, StepReport, StreamPlan } from './stream.js';
import type { NetSeams } from './seams.js';

/** A server that accepts TCP and TLS but never answers the upgrade counts as failed after this. */
export const WS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a closing channel waits for the peer's close frame before dropping the connection. */
export const CLOSE_GRACE_MS = 2_000;

export interface WebSocketTarget {
  readonly plan: StreamPlan;
  /** HTTP Host header (with :port when not the scheme default). */
  readonly hostHeader: string;
  /** Request path (with query). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ChannelOptions {
  readonly net: NetSeams;
  readonly handshakeTimeoutMs?: number;
  readonly onStep?: (report: StepReport) => void;
  readonly localAddress?: string;
}

/**
 * Opens a WebSocket channel. `prepare` runs first (minting an auth token needs async crypto);
 * sends before open are dropped, as with a browser WebSocket (the relay speaks first anyway).
 */
export function openWebSocketChannel(prepare: () => Promise<WebSocketTarget>, handlers: SocketHandlers, options: ChannelOptions): RelaySocket {
  const h = onceHandlers(handlers);
  let ws: WebSocket | undefined;
  let closedEarly = false;
  const abort = new AbortController();
  const start = async () => {
    const target = await prepare();
    if (closedEarly) return;
    const openOpts: OpenOptions = {
      signal: abort.signal,
      ...(options.onStep !== undefined ? { onStep: options.onStep } : {}),
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    };
    let streamError: unknown;
    let streamReady = false;
    let upgradeReported = false;
    const stream = openStream(target.plan, options.net, openOpts).then(
      (s) => {
        streamReady = true;
        return s;
      },
      (err: unknown) => {
        streamError = err;
        throw err;
      },
    );
    const upgradeStarted = Date.now();
    const socket = new WebSocket(`ws://${target.hostHeader}${target.path}`, {
      // http only arms its timeout on sockets from an Agent: arm ours for the upgrade, which ws
      // disarms (setTimeout(0)) once the connection is a WebSocket.
      createConnection: () => {
        const pending = new PendingSocket(stream);
        pending.setTimeout(options.handshakeTimeoutMs ?? WS_HANDSHAKE_TIMEOUT_MS, () =>
          pending.destroy(new TransportError('TIMEOUT', 'the server did not answer the WebSocket upgrade')),
        );
        return pending as never;
      },
      headers: { Host: target.hostHeader, 'User-Agent': BROWSER_USER_AGENT, 'Cache-Control': 'no-cache', Pragma: 'no-cache', ...target.headers },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: options.handshakeTimeoutMs ?? WS_HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    ws = socket;
    socket.binaryType = 'nodebuffer';
    let opened = false;
    socket.on('open', () => {
      opened = true;
      upgradeReported = true;
      options.onStep?.({ step: 'websocket', ok: true, ms: Date.now() - upgradeStarted, detail: `upgraded ${target.path}` });
      h.onOpen();
    });
    socket.on('unexpected-response', (_req, res) => {
      upgradeReported = true;
      options.onStep?.({ step: 'websocket', ok: false, ms: Date.now() - upgradeStarted, detail: `UPGRADE_FAILED (HTTP ${res.statusCode ?? '?'})` });
      res.resume();
      socket.terminate();
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) h.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    socket.on('error', (err: Error) => {
      if (!opened && !upgradeReported && streamError === undefined && streamReady && (err as { code?: string }).code !== undefined) {
        upgradeReported = true;
        options.onStep?.({ step: 'websocket', ok: false, ms: Date.now() - upgradeStarted, detail: (err as { code?: string }).code ?? 'UPGRADE_FAILED' });
      }
    });
    socket.on('close', (code: number, reason: Buffer) => {
      if (!opened && !upgradeReported && streamReady) {
        options.onStep?.({ step: 'websocket', ok: false, ms: Date.now() - upgradeStarted, detail: 'UPGRADE_FAILED (no answer)' });
      }
      h.onClose(opened ? code : CLOSE_ABNORMAL, reason.toString('utf8'));
    });
  };
  start().catch(() => h.onClose(CLOSE_ABNORMAL, 'setup failed'));
  return {
    send(data: Uint8Array) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(data);
    },
    close(code?: number, reason?: string) {
      closedEarly = true;
      abort.abort();
      if (ws === undefined) {
        h.onClose(code ?? 1000, reason ?? 'closed');
        return;
      }
      const socket = ws;
      try {
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else {
          socket.close(code ?? 1000, reason);
          // A frozen route never answers the closing handshake: do not keep it around for ws's 30 s.
          setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
        }
      } catch {
        socket.terminate();
      }
    },
  };
}
