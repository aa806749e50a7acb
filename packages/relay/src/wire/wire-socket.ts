/**
 * One accepted WebSocket on the relay: the TCP socket, the frame parser, and an output queue that
 * leaves in ONE write per tick (the replies and deliveries one group commit produces reach a
 * socket together, RFC 6455 framing laid out back to back in one buffer).
 *
 * Why not the `ws` package: per frame it runs a Writable stream (receiver) and a cork/writev of
 * header + payload (sender); the relay's frames are small and many, and that machinery was a large
 * share of its CPU per message and of its memory per idle connection. This class does only what
 * the relay needs: binary messages in and out, ping/pong, the close handshake.
 *
 * Close: `close(code, reason)` sends a close frame and half-closes once the peer answers with its
 * own (or at once after a protocol error); a peer that never answers is destroyed after
 * `closeTimeoutMs`. `onClose` fires once, when the TCP socket has closed, with the code of the
 * close frame received (1005 none in it, 1006 none received) or of the protocol error we sent.
 */
import type { Socket } from 'node:net';
import { FrameParser, OPCODE, WIRE_CLOSE, type FrameListener } from './frame-parser.js';
import { closePayload, headerSize, writeFrame } from './frame-writer.js';

export interface WireSocketOptions {
  /** Largest data message accepted (larger: close 1009). */
  readonly maxPayload: number;
  /** How long a closing socket may wait for the peer (default 30 s). */
  readonly closeTimeoutMs?: number;
}

const ABNORMAL_CLOSURE = 1006;
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);
const noop = (): void => {};

// Sockets with frames queued this tick, written out together in process.nextTick.
let queuedSockets: WireSocket[] = [];
let flushScheduled = false;

function flushQueued(): void {
  flushScheduled = false;
  const sockets = queuedSockets;
  queuedSockets = [];
  for (const s of sockets) s.flush();
}

export class WireSocket implements FrameListener {
  /** A binary (isBinary) or text data message; `data` is a view, valid only during the call. */
  onMessage: (data: Buffer, isBinary: boolean) => void = noop;
  onPong: () => void = noop;
  onClose: (code: number, reason: string) => void = noop;

  private readonly parser: FrameParser;
  private readonly closeTimeoutMs: number;
  private outOpcodes: number[] = [];
  private outPayloads: Uint8Array[] = [];
  private outBytes = 0;
  private queued = false;
  private closeSent = false;
  /** Half-close after the next flush (both close frames exchanged, or a protocol error). */
  private endAfterFlush = false;
  private closeCode = ABNORMAL_CLOSURE;
  private closeReason = '';
  private closedFired = false;
  /** Destroys a closing socket whose peer does not finish the close in time (a fixed deadline: data does not extend it). */
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    options: WireSocketOptions,
  ) {
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.parser = new FrameParser(options.maxPayload, this);
    socket.setNoDelay(true);
    socket.setTimeout(0);
  }

  /** Starts reading; `head` is what arrived after the upgrade request. Call after the handlers are set. */
  start(head: Buffer): void {
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => this.parser.push(chunk));
    socket.on('error', noop); // 'close' follows
    socket.on('end', () => {
      // The peer half-closed without a close handshake: finish our side too.
      this.closeSent = true;
      this.endAfterFlush = true;
      this.flushSoon();
    });
    socket.on('close', () => this.onSocketClosed());
    if (head.length > 0) this.parser.push(head);
  }

  /** Bytes accepted by send() and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.outBytes + this.socket.writableLength;
  }

  /** True once a close frame was sent or the socket is gone: further sends are dropped. */
  get closing(): boolean {
    return this.closeSent || this.socket.destroyed;
  }

  send(payload: Uint8Array): void {
    if (this.closing) return;
    this.enqueue(OPCODE.binary, payload);
  }

  ping(): void {
    if (this.closing) return;
    this.enqueue(OPCODE.ping, EMPTY);
  }

  close(code: number, reason = ''): void {
    if (this.closing) return;
    this.closeSent = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.enqueue(OPCODE.close, closePayload(code, reason));
    this.startCloseTimer();
  }

  terminate(): void {
    this.outOpcodes = [];
    this.outPayloads = [];
    this.outBytes = 0;
    this.socket.destroy();
  }

  /** Writes everything queued this tick in one buffer (called from the tick's flush). */
  flush(): void {
    this.queued = false;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (this.outBytes > 0) {
      const out = Buffer.allocUnsafe(this.outBytes);
      let offset = 0;
      const opcodes = this.outOpcodes;
      const payloads = this.outPayloads;
      for (let i = 0; i < opcodes.length; i++) offset = writeFrame(out, offset, opcodes[i]!, payloads[i]!);
      this.outOpcodes = [];
      this.outPayloads = [];
      this.outBytes = 0;
      socket.write(out);
    }
    if (this.endAfterFlush) {
      this.endAfterFlush = false;
      socket.end();
      this.startCloseTimer();
    }
  }

  // ---- FrameListener ------------------------------------------------------------------

  dataFrame(data: Buffer, isBinary: boolean): void {
    if (!this.closeSent) this.onMessage(data, isBinary);
  }

  pingFrame(payload: Buffer): void {
    if (!this.closing) this.enqueue(OPCODE.pong, payload);
  }

  pongFrame(): void {
    this.onPong();
  }

  closeFrame(code: number, reason: string): void {
    if (!this.closeSent) {
      // Echo the peer's code (RFC 6455 5.5.1); the close event reports what the peer sent.
      this.closeSent = true;
      this.closeCode = code;
      this.closeReason = reason;
      this.enqueue(OPCODE.close, code === WIRE_CLOSE.noStatus ? EMPTY : closePayload(code, ''));
    }
    this.endAfterFlush = true;
    this.flushSoon();
  }

  protocolError(code: number): void {
    if (!this.closeSent) {
      this.closeSent = true;
      this.closeCode = code;
      this.enqueue(OPCODE.close, closePayload(code, ''));
    }
    this.endAfterFlush = true;
    this.flushSoon();
  }

  // ---- internals ------------------------------------------------------------------------

  private enqueue(opcode: number, payload: Uint8Array): void {
    this.outOpcodes.push(opcode);
    this.outPayloads.push(payload);
    this.outBytes += headerSize(payload.length) + payload.length;
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.queued) return;
    this.queued = true;
    queuedSockets.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      process.nextTick(flushQueued);
    }
  }

  private startCloseTimer(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private onSocketClosed(): void {
    if (this.closedFired) return;
    this.closedFired = true;
    clearTimeout(this.closeTimer);
    this.outOpcodes = [];
    this.outPayloads = [];
    this.outBytes = 0;
    this.onClose(this.closeCode, this.closeReason);
  }
}
