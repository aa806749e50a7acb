/**
 * A Duplex available at once for a stream that is still being built (resolve, dial, proxy
 * handshake, TLS, pin check). `ws` and `http` want a synchronous createConnection; this gives them
 * one while the route does its asynchronous work. Writes wait until the inner stream is ready, so
 * nothing (not even the HTTP upgrade request) leaves before the certificate pin has been checked.
 * A stream that fails to build destroys the socket with its error (ws reports a failed connection).
 * packages/lab's socketFromDial is this class over a single dial.
 */
import { Duplex } from 'node:stream';

interface PendingWrite {
  readonly chunk: Uint8Array;
  readonly callback: (err?: Error | null) => void;
}

export class PendingSocket extends Duplex {
  connecting = true;
  private inner: Duplex | undefined;
  private pending: PendingWrite[] = [];
  private pendingFinal: ((err?: Error | null) => void) | undefined;
  private readonly cancel: (() => void) | undefined;

  /** `cancel` stops the building when the socket is destroyed first (e.g. aborts the dial). */
  constructor(ready: Promise<Duplex>, cancel?: () => void) {
    super({ allowHalfOpen: false });
    this.cancel = cancel;
    ready.then(
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
    this.applySocketOptions();
    socket.on('data', (chunk: Buffer) => {
      if (this.idleTimer !== undefined) this.touch();
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
    for (const p of this.pending) socket.write(p.chunk, p.callback);
    this.pending = [];
    this.touch();
    if (this.pendingFinal !== undefined) {
      socket.end();
      this.pendingFinal();
    }
    this.emit('connect');
  }

  override _write(chunk: Buffer | Uint8Array, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.idleTimer !== undefined) this.touch();
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
    this.cancel?.();
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.inner?.destroy();
    for (const p of this.pending) p.callback(err);
    this.pending = [];
    callback(err);
  }

  // The net.Socket bits ws / http call. ws asks for no-delay on every connection: small Pigeon
  // frames must not wait for Nagle's algorithm, so the wish is passed to the inner stream when it
  // is a socket (TCP or TLS); a tunnel stream has no such knob and ignores it.
  private noDelay: boolean | undefined;
  private keepAlive: { enable: boolean; initialDelay: number } | undefined;

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    this.applySocketOptions();
    return this;
  }
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.keepAlive = { enable, initialDelay };
    this.applySocketOptions();
    return this;
  }
  private applySocketOptions(): void {
    const inner = this.inner as (Duplex & { setNoDelay?: (v: boolean) => unknown; setKeepAlive?: (e: boolean, d: number) => unknown }) | undefined;
    if (inner === undefined) return;
    if (this.noDelay !== undefined) inner.setNoDelay?.(this.noDelay);
    if (this.keepAlive !== undefined) inner.setKeepAlive?.(this.keepAlive.enable, this.keepAlive.initialDelay);
  }
  /** Idle timeout as net.Socket has it (ws uses it for its handshake timeout): 'timeout' after `ms` without traffic. */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    this.idleMs = ms;
    this.touch();
    return this;
  }

  private idleMs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  private touch(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // The idle clock runs only once the stream exists (building it has its own step timeouts).
    if (this.idleMs > 0 && !this.destroyed && this.inner !== undefined) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref();
    }
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
