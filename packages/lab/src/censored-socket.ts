/**
 * One connection through the censor: the Duplex handed to the client on one side, the real TCP
 * socket to the server on the other, and between them two ordered queues where the censor's
 * verdicts are applied to each packet.
 *
 * Packets: a write (or a read from the server) is cut into segments of at most `mss` bytes, since
 * that is what an inline box sees on the wire; small writes stay one packet each (no coalescing).
 */
import { Duplex } from 'node:stream';
import { parseClientHello, MAX_CLIENT_HELLO_BYTES } from './client-hello.js';
import type { ClientHello } from './client-hello.js';
import type { Clock, TimerHandle } from './clock.js';
import { NetError } from './errors.js';
import type { Endpoint } from './address.js';
import type { Direction, FlowInfo, Packet, PacketVerdict } from './types.js';

/** Server->client bytes held in the censor (delayed) before it stops reading from the server. */
export const QUEUE_HIGH_WATER_BYTES = 256 * 1024;

export interface FlowHost {
  readonly clock: Clock;
  readonly mss: number;
  judge(flow: FlowInfo, packet: Packet): Judgement;
  applied(flow: FlowInfo, judgement: Judgement & { verdict: Exclude<PacketVerdict, { action: 'pass' }> }): void;
  flowClosed(flow: FlowPipe): void;
}

/** A verdict and the rule that gave it ('' for pass). */
export interface Judgement {
  readonly rule: string;
  readonly verdict: PacketVerdict;
}

interface QueueItem {
  readonly bytes: Uint8Array | null; // null = end of stream (FIN)
  readonly releaseAt: number;
  callback?: () => void;
}

class DirectionQueue {
  items: QueueItem[] = [];
  bytes = 0;
  lastReleaseAt = 0;
  timer: TimerHandle | undefined;
}

type MutableFlow = { -readonly [K in keyof FlowInfo]: FlowInfo[K] };

export class FlowPipe {
  readonly info: MutableFlow & { dropping: { toServer: boolean; toClient: boolean } };
  readonly socket: CensoredSocket;
  private helloBuffer: Uint8Array = new Uint8Array(0);
  private readonly queues: Record<Direction, DirectionQueue> = { toServer: new DirectionQueue(), toClient: new DirectionQueue() };
  private clientReading = true;
  private upstreamPaused = false;

  constructor(
    private readonly host: FlowHost,
    id: number,
    client: Endpoint,
    server: Endpoint,
    dialedName: string | undefined,
    private readonly upstream: Duplex,
  ) {
    this.info = {
      id,
      client,
      server,
      dialedName,
      tls: 'pending',
      clientHello: undefined,
      sni: undefined,
      firstClientPacket: undefined,
      openedAt: host.clock.now(),
      bytesToServer: 0,
      bytesToClient: 0,
      packetsToServer: 0,
      packetsToClient: 0,
      dropping: { toServer: false, toClient: false },
      closed: false,
    };
    this.socket = new CensoredSocket(this, client, server);
    upstream.on('data', (chunk: Buffer) => this.fromServer(chunk));
    upstream.on('end', () => this.serverEnded());
    upstream.on('error', () => this.serverFailed());
    upstream.on('close', () => this.serverFailed());
  }

  // --- client side (called by CensoredSocket) ---

  fromClient(chunk: Uint8Array, callback: (err?: Error | null) => void): void {
    for (const segment of this.segments(chunk)) this.handle('toServer', segment);
    const q = this.queues.toServer;
    const tail = q.items[q.items.length - 1];
    if (tail !== undefined && tail.callback === undefined) tail.callback = () => callback();
    else callback();
  }

  clientEnded(): void {
    if (this.info.closed || this.info.dropping.toServer) return; // the FIN is dropped like any packet
    this.enqueue('toServer', null, 0);
  }

  clientWantsData(): void {
    this.clientReading = true;
    this.updateFlowControl();
  }

  clientDestroyed(): void {
    this.close();
  }

  // --- server side ---

  private fromServer(chunk: Buffer): void {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const segment of this.segments(bytes)) this.handle('toClient', segment);
  }

  private serverEnded(): void {
    if (this.info.closed || this.info.dropping.toClient) return;
    this.enqueue('toClient', null, 0);
  }

  private serverFailed(): void {
    // A close after a delivered FIN is ordinary; anything else is a reset the client must see,
    // unless the censor is dropping server packets, in which case the RST is dropped too.
    if (this.info.closed || this.info.dropping.toClient) return;
    if (this.upstream.readableEnded) return;
    this.abort(new NetError('ECONNRESET', 'connection reset by the server'));
  }

  // --- the censor's decisions ---

  private handle(direction: Direction, bytes: Uint8Array): void {
    if (this.info.closed) return;
    if (direction === 'toServer') this.observeClientBytes(bytes);
    if (this.info.dropping[direction]) return;
    this.apply(this.host.judge(this.info, { direction, bytes }), direction, bytes);
  }

  /** Applies a verdict; without a packet (re-evaluation) only drops and resets matter. */
  apply(judgement: Judgement, direction?: Direction, bytes?: Uint8Array): void {
    if (this.info.closed) return;
    const { rule, verdict } = judgement;
    switch (verdict.action) {
      case 'pass':
        if (direction !== undefined && bytes !== undefined) this.enqueue(direction, bytes, 0);
        return;
      case 'delay':
        this.host.applied(this.info, { rule, verdict });
        if (direction !== undefined && bytes !== undefined) this.enqueue(direction, bytes, verdict.ms);
        return;
      case 'drop': {
        const toServer = verdict.direction !== 'toClient';
        const toClient = verdict.direction !== 'toServer';
        const already = (!toServer || this.info.dropping.toServer) && (!toClient || this.info.dropping.toClient);
        if (toServer) this.info.dropping.toServer = true;
        if (toClient) this.info.dropping.toClient = true;
        if (!already) this.host.applied(this.info, { rule, verdict });
        if (direction !== undefined && bytes !== undefined && !this.info.dropping[direction]) this.enqueue(direction, bytes, 0);
        this.updateFlowControl();
        return;
      }
      case 'reset':
        this.host.applied(this.info, { rule, verdict });
        this.abort(new NetError('ECONNRESET', `connection reset (${verdict.reason})`));
        return;
    }
  }

  private observeClientBytes(bytes: Uint8Array): void {
    if (this.info.firstClientPacket === undefined) this.info.firstClientPacket = bytes.slice();
    if (this.info.tls !== 'pending') return;
    const joined = new Uint8Array(this.helloBuffer.length + bytes.length);
    joined.set(this.helloBuffer);
    joined.set(bytes, this.helloBuffer.length);
    const result = parseClientHello(joined);
    if (result.status === 'incomplete' && joined.length <= MAX_CLIENT_HELLO_BYTES) {
      this.helloBuffer = joined;
      return;
    }
    this.helloBuffer = new Uint8Array(0);
    if (result.status === 'ok') {
      const hello: ClientHello = result.hello;
      this.info.tls = 'client-hello';
      this.info.clientHello = hello;
      this.info.sni = hello.serverName;
    } else this.info.tls = result.status === 'not-tls' ? 'not-tls' : 'malformed';
  }

  private *segments(bytes: Uint8Array): Generator<Uint8Array> {
    const mss = this.host.mss;
    for (let i = 0; i < bytes.length; i += mss) yield bytes.subarray(i, Math.min(bytes.length, i + mss));
  }

  // --- ordered delivery ---

  private enqueue(direction: Direction, bytes: Uint8Array | null, delayMs: number): void {
    const q = this.queues[direction];
    const now = this.host.clock.now();
    const releaseAt = Math.max(now + Math.max(0, delayMs), q.lastReleaseAt);
    q.lastReleaseAt = releaseAt;
    if (bytes !== null) this.count(direction, bytes);
    if (q.items.length === 0 && releaseAt <= now) {
      this.deliver(direction, bytes);
      return;
    }
    q.items.push({ bytes, releaseAt });
    q.bytes += bytes?.length ?? 0;
    this.schedule(direction);
    this.updateFlowControl();
  }

  private count(direction: Direction, bytes: Uint8Array): void {
    if (direction === 'toServer') {
      this.info.bytesToServer += bytes.length;
      this.info.packetsToServer += 1;
    } else {
      this.info.bytesToClient += bytes.length;
      this.info.packetsToClient += 1;
    }
  }

  private schedule(direction: Direction): void {
    const q = this.queues[direction];
    const head = q.items[0];
    if (head === undefined || q.timer !== undefined) return;
    q.timer = this.host.clock.setTimeout(() => {
      q.timer = undefined;
      this.drain(direction);
    }, head.releaseAt - this.host.clock.now());
  }

  private drain(direction: Direction): void {
    const q = this.queues[direction];
    const now = this.host.clock.now();
    while (!this.info.closed) {
      const head = q.items[0];
      if (head === undefined || head.releaseAt > now) break;
      q.items.shift();
      q.bytes -= head.bytes?.length ?? 0;
      this.deliver(direction, head.bytes);
      head.callback?.();
    }
    this.schedule(direction);
    this.updateFlowControl();
  }

  private deliver(direction: Direction, bytes: Uint8Array | null): void {
    if (this.info.closed) return;
    if (direction === 'toServer') {
      if (bytes === null) this.upstream.end();
      else this.upstream.write(bytes);
      return;
    }
    if (bytes === null) {
      this.socket.push(null);
      return;
    }
    if (!this.socket.push(bytes)) {
      this.clientReading = false;
      this.updateFlowControl();
    }
  }

  /** Stops reading from the server while the client is not reading or too much is held back. */
  private updateFlowControl(): void {
    if (this.info.closed) return;
    const hold = !this.clientReading || this.queues.toClient.bytes > QUEUE_HIGH_WATER_BYTES;
    if (hold && !this.upstreamPaused) {
      this.upstreamPaused = true;
      this.upstream.pause();
    } else if (!hold && this.upstreamPaused) {
      this.upstreamPaused = false;
      this.upstream.resume();
    }
  }

  // --- teardown ---

  /** Resets the connection: the client sees `err`, the server's socket is destroyed. */
  abort(err: NetError): void {
    if (this.info.closed) return;
    this.close();
    // Deferred so a reset decided inside the client's own write() completes that call first.
    process.nextTick(() => this.socket.destroy(err));
  }

  /** Ends the flow for good (client gone, reset, or censor closing). */
  close(): void {
    if (this.info.closed) return;
    this.info.closed = true;
    for (const q of Object.values(this.queues)) {
      this.host.clock.clearTimeout(q.timer);
      q.timer = undefined;
      for (const item of q.items) item.callback?.();
      q.items = [];
      q.bytes = 0;
    }
    this.upstream.destroy();
    this.host.flowClosed(this);
  }
}

/**
 * The client's end: a Duplex with the parts of net.Socket that http, tls and ws call on a socket,
 * so it can be passed to tls.connect({ socket }), or returned from an http/ws `createConnection`.
 */
export class CensoredSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly connecting = false;
  private idleMs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly flow: FlowPipe,
    client: Endpoint,
    server: Endpoint,
  ) {
    // allowHalfOpen false mirrors net.Socket's default: the server's FIN ends our side too.
    super({ allowHalfOpen: false });
    this.remoteAddress = server.ip;
    this.remotePort = server.port;
    this.remoteFamily = server.ip.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = client.ip;
    this.localPort = client.port;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    this.touch();
    return super.push(chunk, encoding);
  }

  override _write(chunk: Buffer | Uint8Array, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.touch();
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.flow.fromClient(bytes, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.flow.clientEnded();
    callback();
  }

  override _read(): void {
    this.flow.clientWantsData();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.flow.clientDestroyed();
    callback(err);
  }

  /** As net.Socket: emits 'timeout' after `ms` without traffic; 0 disables. */
  setTimeout(ms: number, callback?: () => void): this {
    this.idleMs = ms;
    if (callback !== undefined) this.once('timeout', callback);
    this.touch();
    return this;
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.remoteFamily, port: this.localPort };
  }

  private touch(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.idleMs > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref();
    }
  }
}
