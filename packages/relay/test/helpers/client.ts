/** A raw test client: ws + the api codec, no SDK logic, so tests see exactly what the relay sends. */
import {
  decodeRelayFrame,
  encodeClientFrame,
  type ChallengeFrame,
  type ClientFrame,
  type DeliverFrame,
  type RelayFrame,
} from '@pigeon/api';
import WebSocket from 'ws';

const WAIT_LIMIT_MS = 15_000; // fail-safe against a hung test, not a timing assertion

type Waiter = { match: (f: RelayFrame) => boolean; resolve: (f: RelayFrame) => void };

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class TestClient {
  private readonly inbox: RelayFrame[] = [];
  private waiters: Waiter[] = [];
  private nextId = 1;
  readonly closed: Promise<CloseInfo>;
  challenge!: ChallengeFrame;
  undecodable = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
    ws.on('message', (data: Buffer) => {
      let frame: RelayFrame;
      try {
        frame = decodeRelayFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch {
        this.undecodable++;
        return;
      }
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w!.resolve(frame);
      } else {
        this.inbox.push(frame);
      }
    });
  }

  /** Opens a connection and waits for the relay's challenge. */
  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    client.challenge = (await client.next((f) => f.type === 'challenge')) as ChallengeFrame;
    return client;
  }

  /** Opens a socket without waiting for anything (for connection-limit tests). */
  static open(url: string): TestClient {
    return new TestClient(new WebSocket(url, { perMessageDeflate: false }));
  }

  id(): number {
    return this.nextId++;
  }

  next(match: (f: RelayFrame) => boolean = () => true, label = 'frame'): Promise<RelayFrame> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${label} arrived`));
      }, WAIT_LIMIT_MS);
      timer.unref();
      this.waiters.push(waiter);
    });
  }

  nextDeliver(): Promise<DeliverFrame> {
    return this.next((f) => f.type === 'deliver', 'deliver') as Promise<DeliverFrame>;
  }

  /** Frames already received and not consumed. */
  pendingFrames(): readonly RelayFrame[] {
    return this.inbox;
  }

  sendFrame(frame: ClientFrame): void {
    this.ws.send(encodeClientFrame(frame));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  /** Sends a request and resolves with the reply carrying its id (ok, error, or a result frame). */
  request(frame: ClientFrame): Promise<RelayFrame> {
    const reply = this.next((f) => 'id' in f && f.id === frame.id && true, `reply to ${frame.type}`);
    this.sendFrame(frame);
    return reply;
  }

  close(): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}
