/**
 * One WebSocket connection to a relay, kept alive: request ids with timeouts, keepalive pings,
 * reconnect with exponential backoff and jitter. Platform-neutral (the socket comes from a
 * SocketFactory). The client runs two of these per relay: an authenticated one that receives
 * `deliver` pushes, and an anonymous one for sealed sends and bundle fetches, so the relay cannot
 * link a sender to the connection it authenticated (sealed sender, docs/protocol.md).
 */
import { QUIET_ACK_ID, RelayError, decodeRelayFrame, encodeClientFrame } from '@pigeon/api';
import type { ChallengeFrame, ClientFrame, DeliverFrame, QueueEmptyFrame, RelayFrame } from '@pigeon/api';
import { ClientError } from '../errors.js';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  KEEPALIVE_INTERVAL_MS,
  KEEPALIVE_TIMEOUT_MS,
  RECONNECT_BASE_MS,
  RECONNECT_MAX_MS,
} from '../limits.js';
import type { ConnectionState, Logger } from '../types.js';
import { backoffDelay } from './backoff.js';
import type { RelaySocket, SocketFactory } from './socket.js';

/** A client frame before the connection assigns its request id. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RequestFrame = DistributiveOmit<ClientFrame, 'id'>;
export type PushFrame = DeliverFrame | QueueEmptyFrame;

export interface ConnectionTuning {
  readonly requestTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveTimeoutMs?: number;
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  readonly random?: () => number;
}

export interface RelayConnectionOptions extends ConnectionTuning {
  readonly url: string;
  readonly socketFactory: SocketFactory;
  /** A short name for logs ('auth' / 'anon'); never a key or an id of the peer. */
  readonly label: string;
  /** Runs once per socket after the challenge; the connection is 'connected' when it resolves. */
  readonly handshake?: (conn: RelayConnection, challenge: ChallengeFrame) => Promise<void>;
  readonly onPush?: (frame: PushFrame) => void;
  readonly onState?: (state: ConnectionState) => void;
  /** The relay closed the socket (its close code, e.g. CLOSE_CODES.REVOKED) or refused the handshake (the error). */
  readonly onRefused?: (reason: { readonly closeCode?: number; readonly error?: Error }) => void;
  readonly logger?: Logger;
}

interface Pending {
  resolve(frame: RelayFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class RelayConnection {
  private socket: RelaySocket | null = null;
  private socketOpen = false;
  private stateValue: ConnectionState = 'offline';
  private running = false;
  private attempt = 0;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters = new Set<Waiter>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private keepaliveTimer: ReturnType<typeof setInterval> | null = null;
  private lastError: Error | null = null;
  private generation = 0;

  constructor(private readonly options: RelayConnectionOptions) {}

  get url(): string {
    return this.options.url;
  }

  state(): ConnectionState {
    return this.stateValue;
  }

  /** Starts dialing (idempotent); keeps reconnecting until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.dial();
  }

  /** Closes the socket, rejects pending requests and waiters with CLOSED, stops reconnecting. */
  stop(): void {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.dropSocket(new ClientError('CLOSED', 'connection closed'));
    socket?.close(1000, 'bye');
    for (const w of this.waiters) w.reject(new ClientError('CLOSED', 'connection closed'));
    this.waiters.clear();
  }

  /** Resolves when connected (now or later); RELAY_UNREACHABLE / RELAY_REJECTED after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.stateValue === 'connected') return Promise.resolve();
    if (!this.running) return Promise.reject(new ClientError('CLOSED', 'connection is not running'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(err);
        },
      };
      const timer = setTimeout(() => waiter.reject(this.unreachableError()), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private unreachableError(): ClientError {
    const last = this.lastError;
    if (last instanceof RelayError) {
      return new ClientError('RELAY_REJECTED', `the relay at ${this.options.url} refused us: ${last.code}`, { cause: last });
    }
    if (last instanceof ClientError && last.code === 'RELAY_REJECTED') return last;
    return new ClientError('RELAY_UNREACHABLE', `cannot reach the relay at ${this.options.url}`, { cause: last ?? undefined });
  }

  /**
   * Sends a request on the open socket and resolves with the reply frame. An `error` reply rejects
   * with RelayError; no reply within the timeout rejects TIMEOUT; a lost socket rejects RELAY_UNREACHABLE.
   */
  request(frame: RequestFrame, timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS): Promise<RelayFrame> {
    const socket = this.socket;
    if (!socket || !this.socketOpen) {
      return Promise.reject(new ClientError('RELAY_UNREACHABLE', `not connected to ${this.options.url}`));
    }
    const id = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xfffffffe ? 1 : this.nextRequestId + 1;
    let bytes: Uint8Array;
    try {
      bytes = encodeClientFrame({ ...frame, id } as ClientFrame);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<RelayFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('TIMEOUT', `the relay did not answer a ${frame.type} request in time`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(bytes);
    });
  }

  /**
   * Sends a quiet ack (QUIET_ACK_ID: the relay sends no reply; if it cannot apply it, it closes the
   * connection and the messages come again). False when no socket is open.
   */
  sendQuietAck(messageIds: readonly Uint8Array[]): boolean {
    const socket = this.socket;
    if (!socket || !this.socketOpen) return false;
    socket.send(encodeClientFrame({ type: 'ack', id: QUIET_ACK_ID, messageIds }));
    return true;
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.options.onState?.(state);
  }

  private log(event: string, fields?: Record<string, unknown>): void {
    this.options.logger?.(event, { connection: this.options.label, ...fields });
  }

  private dial(): void {
    if (!this.running) return;
    const generation = ++this.generation;
    this.setState('connecting');
    this.socketOpen = false;
    let socket: RelaySocket;
    try {
      socket = this.options.socketFactory(this.options.url, {
        onOpen: () => {
          if (generation !== this.generation) return;
          this.socketOpen = true;
        },
        onMessage: (data) => {
          if (generation === this.generation) this.onMessage(data, generation);
        },
        onClose: (code) => {
          if (generation !== this.generation) return;
          this.log('relay.closed', { code });
          this.lastError ??= new ClientError('RELAY_UNREACHABLE', `connection closed (${code})`);
          this.dropSocket(new ClientError('RELAY_UNREACHABLE', 'connection to the relay was lost'));
          this.scheduleReconnect();
          this.options.onRefused?.({ closeCode: code });
        },
      });
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
  }

  private dropSocket(reason: Error): void {
    this.generation++;
    this.socket = null;
    this.socketOpen = false;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    this.setState('offline');
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++, {
      baseMs: this.options.reconnectBaseMs ?? RECONNECT_BASE_MS,
      maxMs: this.options.reconnectMaxMs ?? RECONNECT_MAX_MS,
      random: this.options.random ?? Math.random,
    });
    this.log('relay.reconnect_scheduled', { delayMs: delay, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.dial();
    }, delay);
  }

  private onMessage(data: Uint8Array, generation: number): void {
    let frame: RelayFrame;
    try {
      frame = decodeRelayFrame(data);
    } catch (err) {
      this.log('relay.bad_frame', { code: err instanceof RelayError ? err.code : 'UNKNOWN' });
      return;
    }
    switch (frame.type) {
      case 'challenge':
        void this.onChallenge(frame, generation);
        return;
      case 'deliver':
      case 'queue_empty':
        this.options.onPush?.(frame);
        return;
      case 'provision_message':
        // Device linking (provisioning mailboxes) is not in the SDK yet: we never open one.
        this.log('relay.unexpected_push', { type: frame.type });
        return;
      case 'error':
        if (frame.id === 0) {
          this.log('relay.error', { code: frame.code });
          return;
        }
        this.settle(frame.id, undefined, new RelayError(frame.code, frame.message, frame.retryAfterMs));
        return;
      default:
        this.settle(frame.id, frame);
    }
  }

  private settle(id: number, frame: RelayFrame | undefined, error?: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(frame!);
  }

  private async onChallenge(challenge: ChallengeFrame, generation: number): Promise<void> {
    this.socketOpen = true;
    try {
      await this.options.handshake?.(this, challenge);
    } catch (err) {
      if (generation !== this.generation) return;
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.log('relay.handshake_failed', { code: (err as { code?: string }).code ?? 'UNKNOWN' });
      const socket = this.socket;
      this.dropSocket(this.lastError);
      socket?.close(1000, 'handshake failed');
      this.scheduleReconnect();
      this.options.onRefused?.({ error: this.lastError });
      return;
    }
    if (generation !== this.generation) return;
    this.attempt = 0;
    this.lastError = null;
    this.startKeepalive(generation);
    this.setState('connected');
    for (const w of [...this.waiters]) w.resolve();
  }

  private startKeepalive(generation: number): void {
    const interval = this.options.keepaliveIntervalMs ?? KEEPALIVE_INTERVAL_MS;
    const timeout = this.options.keepaliveTimeoutMs ?? KEEPALIVE_TIMEOUT_MS;
    this.keepaliveTimer = setInterval(() => {
      if (generation !== this.generation) return;
      this.request({ type: 'ping' }, timeout).catch((err: unknown) => {
        if (generation !== this.generation) return;
        // A route that swallows pings is dead even if TCP says otherwise: drop it and redial.
        this.log('relay.keepalive_failed', { code: (err as { code?: string }).code ?? 'UNKNOWN' });
        const socket = this.socket;
        this.dropSocket(new ClientError('RELAY_UNREACHABLE', 'keepalive timed out'));
        socket?.close(4000, 'keepalive');
        this.scheduleReconnect();
      });
    }, interval);
  }
}
