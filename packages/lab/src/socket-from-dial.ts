/**
 * A Duplex available at once for a dial that completes later. ws and http take a synchronous
 * `createConnection(options) => socket`; with this, they can run over any Dialer:
 *
 *   new WebSocket(url, { createConnection: (o) => socketFromDial(dialer, { host: o.host, port: o.port }) })
 *
 * Writes made before the dial completes are held and sent in order; a failed dial destroys the
 * socket with the dial's NetError (so ws reports it as a failed connection).
 */
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { PendingSocket } from '@pigeon/transport';
import type { DialOptions, Dialer } from './seams.js';

/**
 * transport's PendingSocket over one dial: the same write holding, backpressure and net.Socket
 * bits ws / http call. Destroying the socket before the dial completes aborts the dial.
 */
export class DialingSocket extends PendingSocket {
  constructor(dialer: Dialer, options: DialOptions) {
    const abort = new AbortController();
    const signal = options.signal === undefined ? abort.signal : AbortSignal.any([options.signal, abort.signal]);
    super(dialer.dial({ ...options, signal }), () => abort.abort());
  }
}

export function socketFromDial(dialer: Dialer, options: DialOptions): DialingSocket {
  return new DialingSocket(dialer, options);
}

export interface CreateConnectionOptions {
  /** Connect timeout handed to the dialer. */
  readonly timeoutMs?: number;
  /** Wrap in TLS (for wss:// and https:// URLs): servername defaults to the host ws/http pass in. */
  readonly tls?: {
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
    readonly ca?: string | readonly string[];
    readonly ALPNProtocols?: readonly string[];
  };
}

/**
 * A ready `createConnection` for ws / http over a Dialer. Typed as returning net.Socket because that
 * is what their typings demand; the object is a Duplex with the socket methods they call.
 */
export function createConnectionVia(dialer: Dialer, options: CreateConnectionOptions = {}): (target: unknown) => Socket {
  return (target: unknown) => {
    const t = (typeof target === 'object' && target !== null ? target : {}) as { host?: unknown; hostname?: unknown; port?: unknown; servername?: unknown };
    const host = String(t.host ?? t.hostname ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
    const port = Number(t.port);
    const raw = socketFromDial(dialer, { host, port, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
    if (options.tls === undefined) return raw as unknown as Socket;
    const servername = options.tls.servername ?? (typeof t.servername === 'string' && t.servername !== '' ? t.servername : isIP(host) === 0 ? host : undefined);
    return tlsConnect({
      socket: raw,
      ...(servername !== undefined ? { servername } : {}),
      ...(options.tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.tls.rejectUnauthorized } : {}),
      ...(options.tls.ca !== undefined ? { ca: typeof options.tls.ca === 'string' ? options.tls.ca : [...options.tls.ca] } : {}),
      ...(options.tls.ALPNProtocols !== undefined ? { ALPNProtocols: [...options.tls.ALPNProtocols] } : {}),
    });
  };
}
