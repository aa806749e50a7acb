/**
 * The client end of the tunnel: a frame channel carried by many short HTTPS exchanges to a bridge
 * (docs/transport.md "Tunnel"). Two lanes, each its own kept-alive TLS connection: `up` posts
 * upstream bytes, `poll` long-polls for downstream bytes. Every connection is closed once it has
 * carried its byte budget either way (default 8 KB, under the 16-20 KB freeze, CENSORS.md 7), so a
 * censor counting bytes per connection never reaches its threshold, and a chat needs only a
 * handful of connections per minute (connection-rate policing, CENSORS.md 8).
 * Loss is handled by offsets (tunnel-wire.ts): a failed exchange is retried on a new connection.
 */
import type { Duplex } from 'node:stream';
import type { CryptoBackend } from '@pigeon/crypto';
import { MAX_FRAME_BYTES } from '@pigeon/api';
import { AUTH_COOKIE, mintAuthToken } from './bridge-auth.js';
import type { BridgeInfo } from './bridge-link.js';
import { BROWSER_USER_AGENT } from './browser-tls.js';
import { CLOSE_ABNORMAL, onceHandlers } from './channel.js';
import type { RelaySocket, SocketHandlers } from './channel.js';
import { TransportError } from './errors.js';
import { ExchangeConnection } from './http-exchange.js';
import type { NetSeams } from './seams.js';
import { openStream } from './stream.js';
import type { StepReport, StreamPlan } from './stream.js';
import {
  FrameReassembler,
  OffsetBuffer,
  TUNNEL_REQUEST_HEADER_BYTES,
  TUNNEL_RESPONSE_HEADER_BYTES,
  TUNNEL_SESSION_BYTES,
  decodeTunnelResponse,
  encodeTunnelRequest,
  frameRecord,
} from './tunnel-wire.js';
import type { TunnelOp, TunnelResponse } from './tunnel-wire.js';

/** Bytes one connection may carry in each direction (HTTP heads and bodies; TLS adds its handshake). */
export const DEFAULT_TUNNEL_BUDGET_BYTES = 8 * 1024;
/** Smallest budget we accept: one HTTP head plus a useful body. */
export const MIN_TUNNEL_BUDGET_BYTES = 2 * 1024;
/** Room reserved for each HTTP head (ours are ~350 B, the bridge's ~150 B). */
export const HTTP_HEAD_ALLOWANCE_BYTES = 512;
/** A connection with less room than this left is retired rather than used for a tiny exchange. */
export const MIN_EXCHANGE_ROOM_BYTES = 512;
/** One exchange: the bridge holds a poll up to its poll hold (8 s), plus network time. */
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 20_000;
/** Consecutive failed exchanges after which the channel gives up (the racer tries another route). */
export const DEFAULT_MAX_EXCHANGE_FAILURES = 3;
export const DEFAULT_RETRY_DELAY_MS = 300;

export interface TunnelTuning {
  readonly budgetBytes?: number;
  readonly exchangeTimeoutMs?: number;
  readonly maxFailures?: number;
  readonly retryDelayMs?: number;
}

export interface TunnelChannelOptions {
  readonly net: NetSeams;
  readonly crypto: CryptoBackend;
  readonly now: () => number;
  readonly plan: StreamPlan;
  readonly tuning?: TunnelTuning;
  readonly onStep?: (report: StepReport) => void;
  readonly localAddress?: string;
}

interface Lane {
  conn: ExchangeConnection | undefined;
}

/** Counts of what the tunnel did (tests print them; nothing secret). */
export interface TunnelStats {
  connections: number;
  exchanges: number;
  failures: number;
  maxSentPerConnection: number;
  maxReceivedPerConnection: number;
}

export function openTunnelChannel(bridge: BridgeInfo, handlers: SocketHandlers, options: TunnelChannelOptions): RelaySocket & { readonly stats: TunnelStats } {
  return new TunnelChannel(bridge, handlers, options);
}

class TunnelChannel implements RelaySocket {
  readonly stats: TunnelStats = { connections: 0, exchanges: 0, failures: 0, maxSentPerConnection: 0, maxReceivedPerConnection: 0 };
  private readonly h: ReturnType<typeof onceHandlers>;
  private readonly session: Uint8Array;
  private readonly up = new OffsetBuffer();
  private downReceived = 0;
  private readonly frames = new FrameReassembler(MAX_FRAME_BYTES);
  private readonly upLane: Lane = { conn: undefined };
  private readonly pollLane: Lane = { conn: undefined };
  private uploading = false;
  private open = false;
  private closed = false;
  private failures = 0;
  private firstStream = true;
  private readonly budget: number;
  private readonly abort = new AbortController();

  constructor(
    private readonly bridge: BridgeInfo,
    handlers: SocketHandlers,
    private readonly options: TunnelChannelOptions,
  ) {
    this.h = onceHandlers(handlers);
    this.session = options.crypto.randomBytes(TUNNEL_SESSION_BYTES);
    this.budget = Math.max(MIN_TUNNEL_BUDGET_BYTES, options.tuning?.budgetBytes ?? DEFAULT_TUNNEL_BUDGET_BYTES);
    void this.start();
  }

  send(data: Uint8Array): void {
    if (!this.open || this.closed) return;
    this.up.append(frameRecord(data));
    void this.pumpUp();
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return;
    const wasOpen = this.open;
    this.shutdown(code ?? 1000, reason ?? 'closed');
    const conn = this.upLane.conn;
    if (wasOpen && conn !== undefined && !conn.dead && !this.uploading) {
      // Tell the bridge to drop the session now rather than at its idle timeout; best effort, on
      // the connection we already have (no new connection just to say goodbye).
      void this.exchangeOnce(this.upLane, 'close', new Uint8Array(0), this.up.base, true)
        .catch(() => undefined)
        .finally(() => conn.close());
    } else conn?.close();
  }

  private shutdown(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    if (this.pollLane.conn !== undefined) this.retire(this.pollLane.conn);
    this.h.onClose(code, reason);
  }

  private timeout(): number {
    return this.options.tuning?.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
  }

  private async start(): Promise<void> {
    const started = Date.now();
    try {
      const res = await this.exchange(this.upLane, 'data', new Uint8Array(0), 0);
      if (res === undefined) return;
      this.open = true;
      this.options.onStep?.({ step: 'tunnel', ok: true, ms: Date.now() - started, detail: `session open, budget ${this.budget} B` });
      this.h.onOpen();
      void this.pollLoop();
      void this.pumpUp();
    } catch (err) {
      const code = err instanceof TransportError ? err.code : 'TUNNEL_FAILED';
      this.options.onStep?.({ step: 'tunnel', ok: false, ms: Date.now() - started, detail: code });
      this.shutdown(CLOSE_ABNORMAL, code);
    }
  }

  private async connect(): Promise<ExchangeConnection> {
    const onStep = this.firstStream ? this.options.onStep : undefined;
    this.firstStream = false;
    const stream: Duplex = await openStream(this.options.plan, this.options.net, {
      signal: this.abort.signal,
      ...(onStep !== undefined ? { onStep } : {}),
      ...(this.options.localAddress !== undefined ? { localAddress: this.options.localAddress } : {}),
    });
    this.stats.connections++;
    return new ExchangeConnection(stream);
  }

  private retire(conn: ExchangeConnection): void {
    this.stats.maxSentPerConnection = Math.max(this.stats.maxSentPerConnection, conn.sent);
    this.stats.maxReceivedPerConnection = Math.max(this.stats.maxReceivedPerConnection, conn.received);
    conn.close();
  }

  /** A connection on the lane with room for `bodyBytes` up and at least some room down. */
  private async laneConnection(lane: Lane, bodyBytes: number): Promise<ExchangeConnection> {
    const c = lane.conn;
    if (
      c !== undefined &&
      !c.dead &&
      c.sent + HTTP_HEAD_ALLOWANCE_BYTES + bodyBytes <= this.budget &&
      this.budget - c.received - HTTP_HEAD_ALLOWANCE_BYTES >= MIN_EXCHANGE_ROOM_BYTES + TUNNEL_RESPONSE_HEADER_BYTES
    ) {
      return c;
    }
    if (c !== undefined) this.retire(c);
    lane.conn = undefined;
    const fresh = await this.connect();
    lane.conn = fresh;
    return fresh;
  }

  /** Largest upstream chunk a fresh connection can carry in one request. */
  private maxUpChunk(): number {
    return this.budget - HTTP_HEAD_ALLOWANCE_BYTES - TUNNEL_REQUEST_HEADER_BYTES;
  }

  private async exchangeOnce(lane: Lane, op: TunnelOp, data: Uint8Array, upOffset: number, wantsNoDown = false): Promise<TunnelResponse> {
    const conn = await this.laneConnection(lane, TUNNEL_REQUEST_HEADER_BYTES + data.length);
    const roomDown = wantsNoDown || op === 'data' ? 0 : Math.max(0, this.budget - conn.received - HTTP_HEAD_ALLOWANCE_BYTES - TUNNEL_RESPONSE_HEADER_BYTES);
    const body = encodeTunnelRequest({ op, session: this.session, upOffset, ackDown: this.downReceived, maxDown: roomDown, data });
    const token = await mintAuthToken(this.options.crypto, this.bridge.secret, 'tunnel', this.options.now());
    const host = this.bridge.port === 443 ? this.bridge.host : `${this.bridge.host}:${this.bridge.port}`;
    const head =
      `POST ${this.bridge.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${BROWSER_USER_AGENT}\r\nAccept: */*\r\n` +
      `Content-Type: application/octet-stream\r\nCookie: ${AUTH_COOKIE}=${token}\r\nContent-Length: ${body.length}\r\n\r\n`;
    this.stats.exchanges++;
    const res = await conn.exchange(head, body, roomDown + TUNNEL_RESPONSE_HEADER_BYTES, this.timeout());
    if (res.status !== 200) {
      // The bridge answered as a website: our secret is wrong or the bridge is someone else now.
      throw new TransportError('UPGRADE_FAILED', `the bridge answered HTTP ${res.status}`);
    }
    if (res.closing || conn.dead) {
      this.retire(conn);
      if (lane.conn === conn) lane.conn = undefined;
    }
    return decodeTunnelResponse(new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength));
  }

  /**
   * One logical exchange with retries: a stale kept-alive connection is retried at once, other
   * failures after a delay, up to maxFailures in a row (then the channel closes).
   * Returns undefined when the channel closed meanwhile.
   */
  private async exchange(lane: Lane, op: TunnelOp, data: Uint8Array, upOffset: number): Promise<TunnelResponse | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const reused = lane.conn !== undefined && !lane.conn.dead && lane.conn.exchanges > 0;
      try {
        const res = await this.exchangeOnce(lane, op, data, upOffset);
        this.failures = 0;
        if (res.status === 'unknownSession' || res.status === 'gap') throw new TransportError('TUNNEL_FAILED', `bridge: ${res.status}`);
        if (res.status === 'closed') {
          this.shutdown(1000, 'relay closed the session');
          return undefined;
        }
        return res;
      } catch (err) {
        if (this.closed) return undefined;
        if (lane.conn !== undefined) {
          this.retire(lane.conn);
          lane.conn = undefined;
        }
        if (err instanceof TransportError && (err.code === 'UPGRADE_FAILED' || err.code === 'TUNNEL_FAILED' || err.code === 'PIN_MISMATCH')) throw err;
        if (reused) continue; // the server may simply have closed an idle connection
        this.stats.failures++;
        this.failures++;
        if (this.failures >= (this.options.tuning?.maxFailures ?? DEFAULT_MAX_EXCHANGE_FAILURES)) throw err;
        await new Promise((r) => setTimeout(r, (this.options.tuning?.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * this.failures));
      }
    }
  }

  private async pumpUp(): Promise<void> {
    if (this.uploading || !this.open) return;
    this.uploading = true;
    try {
      while (!this.closed && this.up.length > 0) {
        const offset = this.up.base;
        const chunk = this.up.read(offset, this.maxUpChunk());
        const res = await this.exchange(this.upLane, 'data', chunk, offset);
        if (res === undefined) return;
        this.up.ackTo(res.ackUp);
      }
    } catch (err) {
      this.shutdown(CLOSE_ABNORMAL, err instanceof TransportError ? err.code : 'TUNNEL_FAILED');
    } finally {
      this.uploading = false;
    }
  }

  private async pollLoop(): Promise<void> {
    try {
      while (!this.closed) {
        const res = await this.exchange(this.pollLane, 'poll', new Uint8Array(0), this.up.base);
        if (res === undefined) return;
        this.up.ackTo(res.ackUp);
        this.takeDown(res);
      }
    } catch (err) {
      this.shutdown(CLOSE_ABNORMAL, err instanceof TransportError ? err.code : 'TUNNEL_FAILED');
    }
  }

  private takeDown(res: TunnelResponse): void {
    if (res.downOffset > this.downReceived) {
      // The bridge skipped bytes we never got: cannot happen with a correct bridge.
      this.shutdown(CLOSE_ABNORMAL, 'TUNNEL_FAILED');
      return;
    }
    const skip = this.downReceived - res.downOffset;
    if (skip >= res.data.length) return;
    const fresh = res.data.subarray(skip);
    this.downReceived += fresh.length;
    let frames: Uint8Array[];
    try {
      frames = this.frames.push(fresh);
    } catch {
      this.shutdown(CLOSE_ABNORMAL, 'TUNNEL_FAILED');
      return;
    }
    for (const f of frames) this.h.onMessage(f);
  }
}
