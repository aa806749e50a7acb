/**
 * Test applications for cluster tests, over raw frames: a receiving device that reconnects to
 * another node whenever its connection ends, acknowledges what it processed and drops duplicates
 * by message id (as the client SDK does), and a sender that sends one message at a time and
 * retries the same message id until a node answers `ok` (idempotent enqueue). What they record
 * lets a test check "every acknowledged message delivered exactly once to the application, in
 * order per sender".
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeRelayFrame, encodeClientFrame, type ClientFrame, type RelayFrame } from '@pigeon/api';
import WebSocket from 'ws';
import { signChallenge, type TestDevice } from './identity.js';

const RETRY_DELAY_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** One WebSocket with request/reply by id; every pending request fails when it closes. */
class RawConnection {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: RelayFrame) => void; reject: (e: Error) => void }>();
  readonly closed: Promise<number>;
  isClosed = false;
  onFrame: (f: RelayFrame) => void = () => undefined;
  challenge: Promise<Uint8Array>;

  private constructor(private readonly ws: WebSocket) {
    let gotChallenge: (n: Uint8Array) => void = () => undefined;
    let noChallenge: (e: Error) => void = () => undefined;
    this.challenge = new Promise((resolve, reject) => {
      gotChallenge = resolve;
      noChallenge = reject;
    });
    this.challenge.catch(() => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.isClosed = true;
        noChallenge(new Error('closed'));
        for (const p of this.pending.values()) p.reject(new Error(`connection closed (${code})`));
        this.pending.clear();
        resolve(code);
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      const frame = decodeRelayFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (frame.type === 'challenge') gotChallenge(frame.nonce);
      if ('id' in frame) {
        const p = this.pending.get(frame.id);
        if (p) {
          this.pending.delete(frame.id);
          p.resolve(frame);
          return;
        }
      }
      this.onFrame(frame);
    });
  }

  static async open(url: string): Promise<RawConnection> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const conn = new RawConnection(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('closed before open')));
    });
    await conn.challenge;
    return conn;
  }

  id(): number {
    return this.nextId++;
  }

  request(frame: ClientFrame & { id: number }): Promise<RelayFrame> {
    if (this.isClosed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.set(frame.id, { resolve, reject });
      this.ws.send(encodeClientFrame(frame));
    });
  }

  send(frame: ClientFrame): void {
    if (!this.isClosed) this.ws.send(encodeClientFrame(frame));
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * Timestamps (performance.now) of first deliveries to the applications, per (device, sender)
 * stream: the pause measure. A stream between two devices on one node never needs the bus, so
 * only per-stream gaps show what a failure cost.
 */
export class DeliveryClock {
  private readonly streams = new Map<string, number[]>();
  mark(stream: string): void {
    let times = this.streams.get(stream);
    if (times === undefined) this.streams.set(stream, (times = []));
    times.push(performance.now());
  }
  /** The longest gap in any stream between `from` (the failure) and the stream's first delivery after `to`. */
  longestPause(from: number, to: number): number {
    let longest = 0;
    for (const times of this.streams.values()) {
      let previous = from;
      for (const t of times) {
        if (t <= from) continue;
        longest = Math.max(longest, t - previous);
        previous = t;
        if (t >= to) break;
      }
    }
    return longest;
  }
}

export interface Payload {
  readonly sender: number;
  readonly n: number;
}

const encodePayload = (p: Payload) => new TextEncoder().encode(JSON.stringify(p));
const decodePayload = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Payload;

export class AppDevice {
  /** Per sender, the message numbers in the order the application first saw them. */
  readonly received = new Map<number, number[]>();
  readonly closeCodes: number[] = [];
  duplicatesAcrossConnections = 0;
  duplicatesOnOneConnection = 0;
  connections = 0;
  private readonly seen = new Set<string>();
  private stopped = false;
  private current: RawConnection | undefined;
  private loop: Promise<void> | undefined;
  /** Where the next (re)connection goes: an index into urls(). */
  private nodeIndex: number;

  constructor(
    readonly device: TestDevice,
    private readonly urls: () => readonly string[],
    startIndex: number,
    private readonly clock: DeliveryClock,
  ) {
    this.nodeIndex = startIndex;
  }

  get total(): number {
    let n = 0;
    for (const list of this.received.values()) n += list.length;
    return n;
  }

  get online(): boolean {
    return this.current !== undefined && !this.current.isClosed;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const urls = this.urls();
      const url = urls[this.nodeIndex % urls.length];
      try {
        if (url !== undefined) await this.session(url);
      } catch {
        // node down or refused: try the next one
      }
      if (this.stopped) return;
      this.nodeIndex++;
      await sleep(RETRY_DELAY_MS);
    }
  }

  private async session(url: string): Promise<void> {
    const conn = await RawConnection.open(url);
    this.current = conn;
    if (this.stopped) return conn.close();
    const onThisConnection = new Set<string>();
    const toAck: Uint8Array[] = [];
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      if (toAck.length === 0 || conn.isClosed) return;
      const ids = toAck.splice(0, 500);
      conn.request({ type: 'ack', id: conn.id(), messageIds: ids }).then(
        (reply) => {
          if (reply.type !== 'ok') retry(ids);
        },
        () => undefined, // connection gone: the next one gets them again, deduplicated here
      );
      if (toAck.length > 0) schedule();
    };
    const schedule = () => {
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    };
    const retry = (ids: Uint8Array[]) =>
      setTimeout(() => {
        toAck.push(...ids);
        schedule();
      }, RETRY_DELAY_MS);
    conn.onFrame = (frame) => {
      if (frame.type !== 'deliver') return;
      const key = hex(frame.messageId);
      if (onThisConnection.has(key)) this.duplicatesOnOneConnection++;
      onThisConnection.add(key);
      if (this.seen.has(key)) {
        this.duplicatesAcrossConnections++;
      } else {
        this.seen.add(key);
        const p = decodePayload(frame.envelope);
        let list = this.received.get(p.sender);
        if (list === undefined) this.received.set(p.sender, (list = []));
        list.push(p.n);
        this.clock.mark(`${hex(this.device.deviceId)}/${p.sender}`);
      }
      toAck.push(frame.messageId);
      schedule();
    };
    const nonce = await conn.challenge;
    const reply = await conn.request({ type: 'auth', id: conn.id(), deviceId: this.device.deviceId, signature: await signChallenge(this.device, nonce) });
    if (reply.type !== 'ok') {
      conn.close();
      await conn.closed;
      return;
    }
    this.connections++;
    this.closeCodes.push(await conn.closed);
  }

  /** Drops the current connection abruptly (the device reconnects elsewhere). */
  dropConnection(): void {
    this.current?.terminate();
  }
}

export interface Target {
  readonly device: TestDevice;
  readonly token: Uint8Array;
}

export class AppSender {
  /** Per target index, the highest message number a node acknowledged (ok). */
  readonly acked: number[];
  retries = 0;
  private conn: RawConnection | undefined;
  private nodeIndex: number;

  constructor(
    readonly index: number,
    private readonly targets: readonly Target[],
    private readonly urls: () => readonly string[],
    startIndex: number,
  ) {
    this.nodeIndex = startIndex;
    this.acked = targets.map(() => 0);
  }

  private aborted = false;

  /** Makes the current and every later send give up (for cleanup after a failed test). */
  abort(): void {
    this.aborted = true;
    this.conn?.terminate();
  }

  private async connection(): Promise<RawConnection> {
    for (;;) {
      if (this.aborted) throw new Error('aborted');
      if (this.conn && !this.conn.isClosed) return this.conn;
      const urls = this.urls();
      if (urls.length === 0) {
        await sleep(RETRY_DELAY_MS);
        continue;
      }
      try {
        this.conn = await RawConnection.open(urls[this.nodeIndex % urls.length]!);
        return this.conn;
      } catch {
        this.nodeIndex++;
        this.retries++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  /** Sends message `n` to target `t` until a node acknowledges it; the same id every time. */
  private async sendOne(t: number, n: number): Promise<void> {
    const target = this.targets[t]!;
    const messageId = new Uint8Array(randomBytes(16));
    const envelope = encodePayload({ sender: this.index, n });
    for (;;) {
      if (this.aborted) throw new Error('aborted');
      const conn = await this.connection();
      try {
        const reply = await conn.request({ type: 'send', id: conn.id(), messageId, recipientDeviceId: target.device.deviceId, deliveryToken: target.token, envelope });
        if (reply.type === 'ok') {
          this.acked[t] = n;
          return;
        }
        if (reply.type !== 'error' || !['INTERNAL', 'RATE_LIMITED', 'MAILBOX_FULL'].includes(reply.code)) {
          throw new Error(`send refused: ${reply.type === 'error' ? reply.code : reply.type}`);
        }
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('send refused')) throw e;
        if (this.aborted) throw e;
        this.nodeIndex++; // the connection died: the next attempt goes to another node
      }
      this.retries++;
      await sleep(RETRY_DELAY_MS);
    }
  }

  /** Rounds of one message to every target, strictly one at a time, until `rounds` or `stop()`. */
  async run(rounds: number, shouldStop: () => boolean = () => false): Promise<number> {
    let n = 0;
    while (n < rounds && !shouldStop()) {
      n++;
      for (let t = 0; t < this.targets.length; t++) await this.sendOne(t, n);
    }
    return n;
  }

  close(): void {
    this.conn?.close();
  }
}
