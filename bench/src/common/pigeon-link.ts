/**
 * One benchmark device's WebSocket to a Pigeon relay (or to the bare forwarder), speaking the real
 * frames through the @pigeon/api codec; used by the delivery, group and relay load benchmarks and
 * packages/relay/scripts/relay-cpu-bench.mjs. The load harness binds each link to a chosen
 * 127.0.0.N source address (each source address has only ~28k ephemeral ports). Every `deliver`
 * is acked at once with its own `ack` frame: quiet (QUIET_ACK_ID, no reply), as the client SDK
 * sends them, unless `quietAcks: false` asks for answered acks (the delivery benchmark times them).
 */
import WebSocket from 'ws';
import type { ClientFrame, RelayFrame } from '@pigeon/api';
import { now } from './load-step.js';

export interface ApiCodec {
  encodeClientFrame(frame: ClientFrame): Uint8Array;
  decodeRelayFrame(bytes: Uint8Array): RelayFrame;
}

export type Reply = { readonly ok: true } | { readonly ok: false; readonly code: string };
type ClientRequest = ClientFrame extends infer F ? (F extends { id: number } ? Omit<F, 'id'> : never) : never;
export type ReplyHandler = (reply: Reply) => void;
/**
 * Called for each delivery right after its ack went out; `receivedAt` (`now()`) was read before
 * the ack was encoded. May return a handler for the relay's reply to that ack (to time it).
 */
export type DeliveryHandler = (envelope: Uint8Array, messageId: Uint8Array, receivedAt: number) => ReplyHandler | void;

export interface LinkOptions {
  /** Ack with QUIET_ACK_ID (no reply, as the SDK does); default true. */
  readonly quietAcks?: boolean;
}

/** QUIET_ACK_ID of @pigeon/api (the codec is loaded at run time, so the constant is repeated). */
const QUIET_ACK_ID = 0;

/** Setup requests (open, challenge, register, auth) give up after this long. */
const SETUP_TIMEOUT_MS = 60_000;
/** Largest frame a benchmark client accepts (deliveries are ~300 bytes). */
const CLIENT_MAX_PAYLOAD = 1 << 20;

export class PigeonLink {
  private nextId = 1;
  private readonly pending = new Map<number, ReplyHandler>();
  private nonceWaiter: ((nonce: Uint8Array) => void) | undefined;
  private nonce: Uint8Array | undefined;
  onDeliver: DeliveryHandler = () => {};

  private constructor(
    private readonly ws: WebSocket,
    private readonly codec: ApiCodec,
    private readonly quietAcks: boolean,
  ) {
    ws.on('message', (data: Buffer) => this.receive(data));
    ws.on('close', () => {
      for (const resolve of this.pending.values()) resolve({ ok: false, code: 'CLOSED' });
      this.pending.clear();
    });
  }

  /** `localAddress`: the source address to bind, or undefined for the system's choice. */
  static async open(url: string, localAddress: string | undefined, codec: ApiCodec, options: LinkOptions = {}): Promise<PigeonLink> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: CLIENT_MAX_PAYLOAD, localAddress, handshakeTimeout: SETUP_TIMEOUT_MS });
    const link = new PigeonLink(ws, codec, options.quietAcks ?? true);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {});
    return link;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** The relay's challenge nonce (sent right after the socket opens). */
  challenge(): Promise<Uint8Array> {
    if (this.nonce !== undefined) return Promise.resolve(this.nonce);
    return withTimeout(new Promise<Uint8Array>((resolve) => (this.nonceWaiter = resolve)), 'challenge');
  }

  /** Sends a request; `done` gets the relay's ok/error reply (no promise per message). */
  request(frame: ClientRequest, done: ReplyHandler): void {
    const id = this.nextId++;
    if (this.nextId > 0xffff_fff0) this.nextId = 1;
    this.pending.set(id, done);
    this.ws.send(this.codec.encodeClientFrame({ ...frame, id } as ClientFrame));
  }

  async requestOk(frame: ClientRequest, what: string): Promise<void> {
    const reply = await withTimeout(new Promise<Reply>((resolve) => this.request(frame, resolve)), what);
    if (!reply.ok) throw new Error(`${what} refused: ${reply.code}`);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000);
      timer.unref();
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close();
    });
  }

  private receive(data: Buffer): void {
    let frame: RelayFrame;
    try {
      frame = this.codec.decodeRelayFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch {
      return;
    }
    switch (frame.type) {
      case 'challenge':
        this.nonce = frame.nonce;
        this.nonceWaiter?.(frame.nonce);
        break;
      case 'ok':
      case 'pong':
      case 'bundles':
      case 'prekey_status_result':
        this.settle(frame.id, { ok: true });
        break;
      case 'error':
        this.settle(frame.id, { ok: false, code: frame.code });
        break;
      case 'deliver': {
        const receivedAt = now();
        if (this.quietAcks) {
          this.ws.send(this.codec.encodeClientFrame({ type: 'ack', id: QUIET_ACK_ID, messageIds: [frame.messageId] }));
          this.onDeliver(frame.envelope, frame.messageId, receivedAt);
          break;
        }
        // Ack at once, before any accounting (the relay deletes it from the mailbox and pushes
        // the next one). The reply comes in a later event, after onDeliver has returned.
        let onAckReply: ReplyHandler | void;
        this.request({ type: 'ack', messageIds: [frame.messageId] }, (reply) => onAckReply?.(reply));
        onAckReply = this.onDeliver(frame.envelope, frame.messageId, receivedAt);
        break;
      }
      case 'queue_empty':
        break;
    }
  }

  private settle(id: number, reply: Reply): void {
    const resolve = this.pending.get(id);
    if (resolve === undefined) return;
    this.pending.delete(id);
    resolve(reply);
  }
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = SETUP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
