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
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { DialOptions, Dialer } from './seams.js';

interface Pending {
  readonly chunk: Uint8Array;
  readonly callback: (err?: Error | null) => void;
}

export class DialingSocket extends Duplex {
  connecting = true;
  private inner: Duplex | undefined;
  private pending: Pending[] = [];
  private pendingFinal: ((err?: Error | null) => void) | undefined;
  private readonly abort = new AbortController();

  constructor(dialer: Dialer, options: DialOptions) {
    super({ allowHalfOpen: false });
    const signal = options.signal === undefined ? this.abort.signal : AbortSignal.any([options.signal, this.abort.signal]);
    dialer.dial({ ...options, signal }).then(
      (socket) => this.attach(socket),
      (err: Error) => this.destroy(err),
    );
  }

  private attach(socket: Duplex): void {
    if (this.destroyed) {
      socket.destroy();
      return;
    }
    this.inner = socket;
    this.connecting = false;
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed && !this.readableEnded) this.destroy();
    });
    for (const p of this.pending) socket.write(p.chunk, p.callback);
    this.pending = [];
    if (this.pendingFinal !== undefined) {
      socket.end();
      this.pendingFinal();
    }
    this.emit('connect');
  }

  override _write(chunk: Buffer | Uint8Array, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.inner !== undefined) this.inner.write(chunk, callback);
    else this.pending.push({ chunk, callback });
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.inner !== undefined) {
      this.inner.end();
      callback();
    } else this.pendingFinal = callback;
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.abort.abort();
    this.inner?.destroy();
    for (const p of this.pending) p.callback(err);
    this.pending = [];
    callback(err);
  }

  setNoDelay(noDelay?: boolean): this {
    (this.inner as { setNoDelay?: (v?: boolean) => void } | undefined)?.setNoDelay?.(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    (this.inner as { setKeepAlive?: (e?: boolean, d?: number) => void } | undefined)?.setKeepAlive?.(enable, delay);
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    // ws only ever disables it (setTimeout(0)); idle detection belongs to the caller's keepalive.
    if (callback !== undefined) this.once('timeout', callback);
    (this.inner as { setTimeout?: (ms: number) => void } | undefined)?.setTimeout?.(ms);
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
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
