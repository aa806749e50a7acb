/**
 * The bridge end of the tunnel (docs/transport.md "Tunnel"): one session per client session id,
 * each holding a WebSocket to the relay. Upstream bytes are taken in offset order (overlap from a
 * retried exchange is skipped), cut into frames and sent to the relay; relay frames are appended
 * to the downstream buffer and kept until the client acknowledges them, so a lost response is
 * simply sent again. A poll with nothing to send is held up to `pollHoldMs` (long-poll).
 */
import { MAX_FRAME_BYTES } from '@pigeon/api';
import { toHex } from '@pigeon/crypto';
import { FrameReassembler, OffsetBuffer, frameRecord } from '@pigeon/transport';
import type { RelaySocket, TunnelRequest, TunnelResponse } from '@pigeon/transport';

/** A held poll is answered (empty) after this long; the client polls again at once. */
export const DEFAULT_POLL_HOLD_MS = 8_000;
/** A session with no exchange for this long is closed (the client is gone). */
export const DEFAULT_SESSION_IDLE_MS = 60_000;
/** Sessions one bridge keeps at most; beyond, new ones get unknownSession. */
export const MAX_TUNNEL_SESSIONS = 1_000;
/** Unacknowledged downstream bytes per session; beyond, the session is closed (a client not reading). */
export const MAX_SESSION_BUFFER_BYTES = 8 * 1024 * 1024;
/** Frames queued for the relay before its WebSocket opens. */
export const MAX_PENDING_UPSTREAM_FRAMES = 256;

export type UpstreamOpener = (handlers: { onOpen(): void; onMessage(d: Uint8Array): void; onClose(code: number, reason: string): void }) => RelaySocket;

interface Held {
  readonly ackDown: number;
  readonly maxDown: number;
  readonly respond: (r: TunnelResponse) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

class TunnelSession {
  upReceived = 0;
  readonly frames = new FrameReassembler(MAX_FRAME_BYTES);
  readonly down = new OffsetBuffer();
  closed = false;
  lastSeen: number;
  held: Held | undefined;
  private upstreamOpen = false;
  private readonly pending: Uint8Array[] = [];
  readonly upstream: RelaySocket;

  constructor(
    open: UpstreamOpener,
    now: number,
    private readonly onDead: () => void,
  ) {
    this.lastSeen = now;
    this.upstream = open({
      onOpen: () => {
        this.upstreamOpen = true;
        for (const f of this.pending) this.upstream.send(f);
        this.pending.length = 0;
      },
      onMessage: (d) => {
        this.down.append(frameRecord(d));
        if (this.down.length > MAX_SESSION_BUFFER_BYTES) this.close();
        else this.wake();
      },
      onClose: () => this.close(),
    });
  }

  sendUp(frame: Uint8Array): void {
    if (this.upstreamOpen) this.upstream.send(frame);
    else if (this.pending.length < MAX_PENDING_UPSTREAM_FRAMES) this.pending.push(frame);
    else this.close();
  }

  respondHeld(status: TunnelResponse['status']): void {
    const h = this.held;
    if (h === undefined) return;
    this.held = undefined;
    clearTimeout(h.timer);
    h.respond(this.answer(status, h.ackDown, h.maxDown));
  }

  answer(status: TunnelResponse['status'], ackDown: number, maxDown: number): TunnelResponse {
    const from = Math.max(ackDown, this.down.base);
    return { status, ackUp: this.upReceived, downOffset: from, data: status === 'ok' ? this.down.read(from, maxDown) : new Uint8Array(0) };
  }

  wake(): void {
    if (this.held !== undefined && this.down.end > this.held.ackDown) this.respondHeld('ok');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.upstream.close(1000, 'tunnel closed');
    this.respondHeld('closed');
    this.onDead();
  }
}

export interface TunnelServerOptions {
  readonly openUpstream: UpstreamOpener;
  readonly pollHoldMs?: number;
  readonly sessionIdleMs?: number;
  readonly maxSessions?: number;
  readonly now?: () => number;
}

export class TunnelServer {
  private readonly sessions = new Map<string, TunnelSession>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly now: () => number;

  constructor(private readonly options: TunnelServerOptions) {
    this.now = options.now ?? Date.now;
    const idle = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.sweeper = setInterval(() => {
      const cutoff = this.now() - idle;
      for (const s of this.sessions.values()) if (s.held === undefined && s.lastSeen < cutoff) s.close();
    }, Math.min(idle, 10_000));
    this.sweeper.unref();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Handles one authenticated exchange; resolves with the response to send. */
  handle(req: TunnelRequest): Promise<TunnelResponse> {
    const key = toHex(req.session);
    let s = this.sessions.get(key);
    if (s === undefined) {
      if (req.op === 'close') return Promise.resolve({ status: 'closed', ackUp: 0, downOffset: 0, data: new Uint8Array(0) });
      const fresh = req.op === 'data' && req.upOffset === 0 && req.ackDown === 0;
      if (!fresh || this.sessions.size >= (this.options.maxSessions ?? MAX_TUNNEL_SESSIONS)) {
        return Promise.resolve({ status: 'unknownSession', ackUp: 0, downOffset: 0, data: new Uint8Array(0) });
      }
      const created: TunnelSession = new TunnelSession(this.options.openUpstream, this.now(), () => {
        if (this.sessions.get(key) === created) this.sessions.delete(key);
      });
      s = created;
      this.sessions.set(key, s);
    }
    const session = s;
    session.lastSeen = this.now();
    if (session.closed) return Promise.resolve(session.answer('closed', req.ackDown, 0));
    session.down.ackTo(req.ackDown);
    if (req.op === 'close') {
      session.close();
      return Promise.resolve(session.answer('closed', req.ackDown, 0));
    }
    if (req.op === 'data') {
      if (req.upOffset > session.upReceived) return Promise.resolve(session.answer('gap', req.ackDown, 0));
      const fresh = req.data.subarray(session.upReceived - req.upOffset);
      session.upReceived += fresh.length;
      let frames: Uint8Array[];
      try {
        frames = session.frames.push(fresh);
      } catch {
        session.close();
        return Promise.resolve(session.answer('closed', req.ackDown, 0));
      }
      for (const f of frames) session.sendUp(f);
      return Promise.resolve(session.answer('ok', req.ackDown, 0));
    }
    // poll
    if (session.down.end > req.ackDown || req.maxDown === 0) return Promise.resolve(session.answer('ok', req.ackDown, req.maxDown));
    session.respondHeld('ok'); // a newer poll replaces an older one
    return new Promise<TunnelResponse>((resolve) => {
      const timer = setTimeout(() => session.respondHeld('ok'), this.options.pollHoldMs ?? DEFAULT_POLL_HOLD_MS);
      session.held = { ackDown: req.ackDown, maxDown: req.maxDown, respond: resolve, timer };
    });
  }

  /** Releases a held poll whose HTTP connection went away. */
  abandon(session: Uint8Array): void {
    this.sessions.get(toHex(session))?.respondHeld('ok');
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of [...this.sessions.values()]) s.close();
    this.sessions.clear();
  }
}
