/**
 * One benchmark device's WebSocket to the relay, speaking the real frames through the api
 * codec: challenge -> register (certificate + signature over authMessage(nonce)) -> minimal
 * prekeys -> a delivery token; then sends, deliveries and acks.
 */
import WebSocket from 'ws';
import type { ClientFrame, RelayFrame } from '@pigeon/api';

export interface ApiCodec {
  encodeClientFrame(frame: ClientFrame): Uint8Array;
  decodeRelayFrame(bytes: Uint8Array): RelayFrame;
}

type Reply = { ok: true } | { ok: false; code: string };
type ClientRequest = ClientFrame extends infer F ? (F extends { id: number } ? Omit<F, 'id'> : never) : never;

/** How long setup requests may take before the benchmark gives up on the device. */
const SETUP_TIMEOUT_MS = 30_000;

export class DeviceConnection {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private challenge: ((nonce: Uint8Array) => void) | undefined;
  private nonce: Uint8Array | undefined;
  /** Called for every `deliver`; set by the load generator. */
  onDeliver: (messageId: Uint8Array, envelope: Uint8Array) => void = () => {};

  private constructor(
    private readonly ws: WebSocket,
    private readonly codec: ApiCodec,
  ) {
    ws.on('message', (data: Buffer) => this.receive(data));
    ws.on('close', () => {
      for (const resolve of this.pending.values()) resolve({ ok: false, code: 'CLOSED' });
      this.pending.clear();
    });
  }

  static async open(url: string, codec: ApiCodec): Promise<DeviceConnection> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 20 });
    const connection = new DeviceConnection(ws, codec);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {});
    return connection;
  }

  /** The relay's challenge nonce (sent right after the socket opens). */
  async challengeNonce(): Promise<Uint8Array> {
    if (this.nonce !== undefined) return this.nonce;
    return withTimeout(new Promise<Uint8Array>((resolve) => (this.challenge = resolve)), 'challenge');
  }

  /** Sends a request frame; resolves with the relay's ok/error reply. */
  request(frame: ClientRequest): Promise<Reply> {
    const id = this.nextId++;
    const promise = new Promise<Reply>((resolve) => this.pending.set(id, resolve));
    this.ws.send(this.codec.encodeClientFrame({ ...frame, id } as ClientFrame));
    return promise;
  }

  async requestOk(frame: ClientRequest, what: string): Promise<void> {
    const reply = await withTimeout(this.request(frame), what);
    if (!reply.ok) throw new Error(`${what} refused by the relay: ${reply.code}`);
  }

  /** Fire-and-track: sends a request and calls `done` with its reply (no promise per message). */
  send(frame: ClientRequest, done: (reply: Reply) => void): void {
    const id = this.nextId++;
    this.pending.set(id, done);
    this.ws.send(this.codec.encodeClientFrame({ ...frame, id } as ClientFrame));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000).unref();
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
        this.challenge?.(frame.nonce);
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
      case 'deliver':
        this.onDeliver(frame.messageId, frame.envelope);
        break;
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

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from the relay in ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
