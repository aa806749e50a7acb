/**
 * The relay's own WebSocket layer over real TCP: the handshake, the frames it sends, and how it
 * answers pings, closes and broken peers. A raw node:net client sees exactly the bytes on the
 * wire; the `ws` client library checks interoperability. A fake socket checks the one-write-per-
 * tick output queue of WireSocket, which real TCP cannot show deterministically.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { decodeRelayFrame, encodeClientFrame, type RelayFrame } from '@pigeon/api';
import WebSocket from 'ws';
import { OPCODE } from '../src/wire/frame-parser.js';
import { acceptValue } from '../src/wire/handshake.js';
import { clientFrame as buildFrame, closeBody } from './helpers/ws-frames.js';
import { WireSocket } from '../src/wire/wire-socket.js';
import { startTestRelay, type TestRelay } from './helpers/harness.js';

const WAIT_LIMIT_MS = 15_000; // fail-safe against a hung test, not a timing assertion
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
// RFC 6455 section 1.3 (and 4.2.2) gives this pair.
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

// ---- frames ---------------------------------------------------------------------------------

/** A masked client frame (helpers/ws-frames.ts); `mask: false` leaves it unmasked. */
function clientFrame(opcode: number, payload: Uint8Array = new Uint8Array(0), opts: { mask?: boolean; rsv1?: boolean; fin?: boolean } = {}): Buffer {
  return buildFrame({ opcode, payload, fin: opts.fin ?? true, rsv: opts.rsv1 ? 4 : 0, ...(opts.mask === false ? { mask: null } : {}) });
}

interface ServerFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly masked: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Whole server frames at the start of `buf`, and how many bytes they took. */
function takeServerFrames(buf: Buffer): { frames: ServerFrame[]; used: number } {
  const frames: ServerFrame[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) break;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) break;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (b1 & 0x80) head += 4; // never expected; kept so a masked frame is reported, not misparsed
    if (buf.length - at < head + len) break;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, masked: (b1 & 0x80) !== 0, opcode: b0 & 0x0f, payload: Buffer.from(buf.subarray(at + head, at + head + len)) });
    at += head + len;
  }
  return { frames, used: at };
}

const relayFrame = (f: ServerFrame): RelayFrame => {
  assert.equal(f.opcode, OPCODE.binary);
  return decodeRelayFrame(new Uint8Array(f.payload));
};

// ---- a raw client -----------------------------------------------------------------------------

/** A TCP client speaking WebSocket by hand. Records every read, so tests can see how frames arrive. */
/** The relay's next frame is a close carrying `code`, and then it ends the TCP connection. */
async function expectClose(peer: RawPeer, code: number): Promise<void> {
  const close = await peer.next('close');
  assert.equal(close.opcode, OPCODE.close);
  assert.equal(close.payload.readUInt16BE(0), code);
  await peer.ended;
}

class RawPeer {
  private buf = Buffer.alloc(0);
  private readonly frames: ServerFrame[] = [];
  private waiter: (() => void) | undefined;
  /** For each data read after the handshake: how many whole frames it completed. */
  readonly framesPerRead: number[] = [];
  /** The relay half-closed (FIN received). */
  readonly ended: Promise<void>;
  readonly closed: Promise<void>;
  private constructor(readonly socket: Socket) {
    this.ended = new Promise((resolve) => socket.once('end', () => resolve()));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
  }

  /** Connects and completes the handshake; the bytes after the 101 head are parsed as frames. */
  static async open(port: number, path: string): Promise<RawPeer> {
    const socket = await tcp(port);
    const peer = new RawPeer(socket);
    const { head, rest } = await readHead(socket, upgradeRequest(port, path));
    assert.match(head, /^HTTP\/1\.1 101 /);
    socket.on('data', (chunk: Buffer) => peer.onData(chunk));
    if (rest.length > 0) peer.onData(rest);
    return peer;
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    const { frames, used } = takeServerFrames(this.buf);
    this.buf = this.buf.subarray(used);
    this.framesPerRead.push(frames.length);
    this.frames.push(...frames);
    this.waiter?.();
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next server frame (fails the test after WAIT_LIMIT_MS; a hung relay, not a timing check). */
  async next(label = 'frame'): Promise<ServerFrame> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (this.frames.length === 0) {
      if (this.socket.destroyed && this.frames.length === 0) throw new Error(`socket closed while waiting for ${label}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${label}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.socket.off('close', done);
          this.waiter = undefined;
          resolve();
        };
        const t = setTimeout(done, remaining);
        this.waiter = done;
        this.socket.once('close', done);
      });
    }
    return this.frames.shift()!;
  }

  /** The challenge must be the first frame; returns it. */
  async challenge(): Promise<RelayFrame> {
    const first = await this.next('challenge');
    assert.equal(first.masked, false);
    const frame = relayFrame(first);
    assert.equal(frame.type, 'challenge');
    return frame;
  }

  /** Frames still unread. */
  get pending(): number {
    return this.frames.length;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function tcp(port: number, allowHalfOpen = true): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the test, not the socket, decides when our side ends, so a FIN from the relay is observable.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function upgradeRequest(port: number, path: string, { method = 'GET', key = RFC_KEY as string | null, version = '13' } = {}): string {
  return (
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    (key !== null ? `Sec-WebSocket-Key: ${key}\r\n` : '') +
    `Sec-WebSocket-Version: ${version}\r\n` +
    (method === 'POST' ? 'Content-Length: 0\r\n' : '') +
    '\r\n'
  );
}

/** Writes `text` and reads up to the end of the response head. */
function readHead(socket: Socket, text: string): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      resolve({ head: buf.subarray(0, end + 4).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    const onEnd = () => reject(new Error(`connection ended before a response head: ${buf.toString('latin1')}`));
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.write(text);
  });
}

/** Sends a request and reads the whole response until the relay closes the connection. */
async function rawExchange(port: number, text: string): Promise<string> {
  const socket = await tcp(port, false);
  try {
    return await new Promise<string>((resolve, reject) => {
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (c: string) => (data += c));
      socket.once('close', () => resolve(data));
      socket.once('error', reject);
      socket.write(text);
    });
  } finally {
    socket.destroy();
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function headerOf(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  return line?.slice(name.length + 1).trim();
}

// ---- tests over the relay -----------------------------------------------------------------------

describe('wire: the relay WebSocket over raw TCP', () => {
  let relay: TestRelay;
  let wsPath: string;
  const peers: RawPeer[] = [];
  const open = async (): Promise<RawPeer> => {
    const p = await RawPeer.open(relay.port, wsPath);
    peers.push(p);
    return p;
  };

  before(async () => {
    relay = await startTestRelay();
    wsPath = new URL(relay.url).pathname;
  });
  after(async () => {
    for (const p of peers) p.destroy();
    await relay.relay.stop();
  });

  it('acceptValue matches the RFC 6455 example', () => {
    assert.equal(acceptValue(RFC_KEY), RFC_ACCEPT);
  });

  it('answers the handshake with 101 and the RFC accept value, then sends the challenge as an unmasked binary frame', async () => {
    const socket = await tcp(relay.port);
    try {
      const { head, rest } = await readHead(socket, upgradeRequest(relay.port, wsPath));
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.equal(headerOf(head, 'upgrade')?.toLowerCase(), 'websocket');
      assert.equal(headerOf(head, 'connection')?.toLowerCase(), 'upgrade');
      assert.equal(headerOf(head, 'sec-websocket-accept'), RFC_ACCEPT);
      assert.equal(headerOf(head, 'sec-websocket-extensions'), undefined, 'no compression offered');
      assert.equal(headerOf(head, 'sec-websocket-protocol'), undefined);
      // The challenge may come with the head or after it.
      let buf = rest;
      let frames = takeServerFrames(buf).frames;
      while (frames.length === 0) {
        const chunk = await new Promise<Buffer>((resolve, reject) => {
          socket.once('data', resolve);
          socket.once('close', () => reject(new Error('closed before the challenge')));
        });
        buf = Buffer.concat([buf, chunk]);
        frames = takeServerFrames(buf).frames;
      }
      const first = frames[0]!;
      assert.deepEqual({ fin: first.fin, rsv: first.rsv, masked: first.masked, opcode: first.opcode }, { fin: true, rsv: 0, masked: false, opcode: OPCODE.binary });
      const challenge = relayFrame(first);
      assert.equal(challenge.type, 'challenge');
      assert.ok(challenge.type === 'challenge' && challenge.nonce.length >= 16);
    } finally {
      socket.destroy();
    }
  });

  it('malformed upgrades on the WebSocket path get the same 404 as any other path', async () => {
    const notFound = await httpGet(relay.httpUrl + 'somewhere-else');
    assert.equal(notFound.status, 404);
    const port = relay.port;
    const malformed: [string, string][] = [
      ['missing key', upgradeRequest(port, wsPath, { key: null })],
      ['wrong version', upgradeRequest(port, wsPath, { version: '8' })],
      ['POST', upgradeRequest(port, wsPath, { method: 'POST' })],
      ['key of the wrong shape', upgradeRequest(port, wsPath, { key: 'not-a-key' })],
      ['key of 15 bytes', upgradeRequest(port, wsPath, { key: Buffer.alloc(15).toString('base64') })],
    ];
    for (const [name, text] of malformed) {
      const response = await rawExchange(port, text);
      assert.match(response, /^HTTP\/1\.1 404 /, name);
      assert.ok(response.endsWith(notFound.body), `${name}: same page as other paths`);
      assert.doesNotMatch(response, /sec-websocket-accept/i, name);
    }
    // The same request, well formed, is accepted (the 404s above are about the malformation).
    const ok = await open();
    await ok.challenge();
  });

  it('a ping with a payload gets a pong with the same payload', async () => {
    const peer = await open();
    await peer.challenge();
    const payload = Buffer.from('are you there? ✓', 'utf8');
    peer.write(clientFrame(OPCODE.ping, payload));
    const pong = await peer.next('pong');
    assert.deepEqual(pong, { fin: true, rsv: 0, masked: false, opcode: OPCODE.pong, payload });
    peer.write(clientFrame(OPCODE.ping));
    assert.deepEqual((await peer.next('empty pong')).payload, Buffer.alloc(0));
  });

  it('a close frame (1000) is echoed and the relay ends the TCP connection', async () => {
    const peer = await open();
    await peer.challenge();
    peer.write(clientFrame(OPCODE.close, closeBody(1000, 'done')));
    await expectClose(peer, 1000);
    assert.equal(peer.pending, 0, 'nothing after the close frame');
    peer.socket.end();
    await peer.closed;
  });

  it('a close frame without a code is echoed without one', async () => {
    const peer = await open();
    await peer.challenge();
    peer.write(clientFrame(OPCODE.close));
    const echo = await peer.next('close echo');
    assert.equal(echo.opcode, OPCODE.close);
    assert.equal(echo.payload.length, 0);
    await peer.ended;
    peer.socket.end();
    await peer.closed;
  });

  it('an unmasked frame gets close 1002 and the connection ends', async () => {
    const peer = await open();
    await peer.challenge();
    peer.write(clientFrame(OPCODE.binary, encodeClientFrame({ type: 'ping', id: 1 }), { mask: false }));
    await expectClose(peer, 1002);
    peer.socket.end();
    await peer.closed;
  });

  it('a compressed (RSV1) frame gets close 1002', async () => {
    const peer = await open();
    await peer.challenge();
    peer.write(clientFrame(OPCODE.binary, encodeClientFrame({ type: 'ping', id: 1 }), { rsv1: true }));
    await expectClose(peer, 1002);
  });

  it('a frame announcing more than the largest message gets close 1009 before its payload is sent', async () => {
    const peer = await open();
    await peer.challenge();
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]); // 1 GiB, masked
    peer.write(header);
    await expectClose(peer, 1009);
  });

  it('a ping request split over several TCP writes with pauses gets its pong', async () => {
    const peer = await open();
    await peer.challenge();
    const frame = clientFrame(OPCODE.binary, encodeClientFrame({ type: 'ping', id: 4711 }));
    // Pieces: inside the header, inside the mask, inside the payload, the rest.
    const cuts = [0, 1, 4, 7, frame.length - 1, frame.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      if (i > 0) await delay(15); // lets each piece reach the relay as its own read
      peer.write(frame.subarray(cuts[i], cuts[i + 1]));
    }
    const reply = relayFrame(await peer.next('pong'));
    assert.deepEqual(reply, { type: 'pong', id: 4711 });
  });

  it('two requests in one TCP write are both answered', async (t) => {
    const peer = await open();
    await peer.challenge();
    const readsBefore = peer.framesPerRead.length;
    peer.write(
      Buffer.concat([clientFrame(OPCODE.binary, encodeClientFrame({ type: 'ping', id: 1 })), clientFrame(OPCODE.binary, encodeClientFrame({ type: 'ping', id: 2 }))]),
    );
    const first = relayFrame(await peer.next('first pong'));
    const second = relayFrame(await peer.next('second pong'));
    assert.deepEqual([first, second], [
      { type: 'pong', id: 1 },
      { type: 'pong', id: 2 },
    ]);
    // Both answers leave in one write; TCP may still split them, so this is reported, not asserted.
    const reads = peer.framesPerRead.slice(readsBefore).filter((n) => n > 0).length;
    t.diagnostic(`the two pongs arrived in ${reads} read(s)`);
  });

  it('a peer that half-closes without a close frame gets its socket closed', async () => {
    const peer = await open();
    await peer.challenge();
    peer.socket.end();
    await peer.ended; // the relay finished its side too
    await peer.closed;
    assert.equal(peer.pending, 0, 'no close frame is sent to a peer that left');
  });

  it('the relay still serves new connections after all of the above', async () => {
    const peer = await open();
    await peer.challenge();
    peer.write(clientFrame(OPCODE.binary, encodeClientFrame({ type: 'ping', id: 9 })));
    assert.deepEqual(relayFrame(await peer.next('pong')), { type: 'pong', id: 9 });
  });
});

describe('wire: the ws client library against the relay', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.relay.stop());

  it('connects, receives the challenge, pings, and sees its close code 4000 echoed', async () => {
    const ws = new WebSocket(relay.url);
    ws.on('error', () => {});
    try {
      const messages: RelayFrame[] = [];
      let notify: (() => void) | undefined;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        assert.equal(isBinary, true);
        messages.push(decodeRelayFrame(new Uint8Array(data)));
        notify?.();
      });
      const nextMessage = async (): Promise<RelayFrame> => {
        while (messages.length === 0) await new Promise<void>((resolve) => (notify = resolve));
        return messages.shift()!;
      };
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      assert.equal((await nextMessage()).type, 'challenge');

      const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
      ws.ping(Buffer.from('hello'));
      assert.deepEqual(await pong, Buffer.from('hello'));

      ws.send(encodeClientFrame({ type: 'ping', id: 77 }));
      assert.deepEqual(await nextMessage(), { type: 'pong', id: 77 });

      const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
      ws.close(4000, 'bye');
      assert.equal(await closed, 4000);
    } finally {
      ws.terminate();
    }
  });
});

// ---- WireSocket's output queue, with a fake socket ------------------------------------------------

/** Just enough of net.Socket for WireSocket; records writes and ends. */
class FakeSocket extends EventEmitter {
  readonly writes: Buffer[] = [];
  endCalls = 0;
  destroyed = false;
  writableLength = 0;
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  write(b: Buffer): boolean {
    this.writes.push(Buffer.from(b));
    return true;
  }
  end(): this {
    this.endCalls++;
    return this;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this.emit('close'));
    }
    return this;
  }
}

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

function wire(): { fake: FakeSocket; ws: WireSocket; closes: [number, string][]; messages: Buffer[] } {
  const fake = new FakeSocket();
  const ws = new WireSocket(fake as unknown as Socket, { maxPayload: 1000 });
  const closes: [number, string][] = [];
  const messages: Buffer[] = [];
  ws.onClose = (code, reason) => closes.push([code, reason]);
  ws.onMessage = (data) => messages.push(Buffer.from(data));
  ws.start(Buffer.alloc(0));
  return { fake, ws, closes, messages };
}

describe('wire: WireSocket output', () => {
  it('a closing socket whose peer never answers is destroyed at a fixed deadline, even while it keeps sending', async () => {
    const fake = new FakeSocket();
    const ws = new WireSocket(fake as unknown as Socket, { maxPayload: 1000, closeTimeoutMs: 60 });
    ws.start(Buffer.alloc(0));
    const started = performance.now();
    ws.close(4002, 'replaced');
    // Pings every 10 ms would reset an inactivity timeout forever; the deadline does not move.
    while (!fake.destroyed && performance.now() - started < 2000) {
      fake.emit('data', clientFrame(OPCODE.ping, Buffer.from('x')));
      await delay(10);
    }
    assert.equal(fake.destroyed, true, 'still open after 2 s');
  });

  it('frames queued in one tick leave in one write, in order', async () => {
    const { fake, ws } = wire();
    ws.send(Buffer.from('a'));
    ws.send(Buffer.alloc(300, 7));
    ws.ping();
    fake.emit('data', clientFrame(OPCODE.ping, Buffer.from('p')));
    assert.equal(fake.writes.length, 0, 'nothing written synchronously');
    await nextTick();
    assert.equal(fake.writes.length, 1);
    const { frames, used } = takeServerFrames(fake.writes[0]!);
    assert.equal(used, fake.writes[0]!.length);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.length]),
      [
        [OPCODE.binary, 1],
        [OPCODE.binary, 300],
        [OPCODE.ping, 0],
        [OPCODE.pong, 1],
      ],
    );
    assert.equal(ws.bufferedAmount, 0);
    ws.terminate();
  });

  it('a head passed to start() is parsed before later data', async () => {
    const fake = new FakeSocket();
    const ws = new WireSocket(fake as unknown as Socket, { maxPayload: 1000 });
    const messages: string[] = [];
    ws.onMessage = (d) => messages.push(d.toString());
    ws.start(clientFrame(OPCODE.binary, Buffer.from('head')));
    fake.emit('data', clientFrame(OPCODE.binary, Buffer.from('data')));
    assert.deepEqual(messages, ['head', 'data']);
    ws.terminate();
  });

  it('the peer\'s close is echoed, then the socket is ended; onClose reports the peer\'s code once', async () => {
    const { fake, ws, closes, messages } = wire();
    fake.emit('data', Buffer.concat([clientFrame(OPCODE.close, closeBody(4000, 'bye')), clientFrame(OPCODE.binary, Buffer.from('late'))]));
    assert.equal(ws.closing, true);
    ws.send(Buffer.from('dropped'));
    await nextTick();
    assert.equal(fake.writes.length, 1);
    const { frames } = takeServerFrames(fake.writes[0]!);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, OPCODE.close);
    assert.equal(frames[0]!.payload.readUInt16BE(0), 4000);
    assert.equal(fake.endCalls, 1);
    assert.deepEqual(messages, []);
    fake.emit('close');
    fake.emit('close');
    assert.deepEqual(closes, [[4000, 'bye']]);
  });

  it('our close waits for the peer\'s answer before ending, and ignores data meanwhile', async () => {
    const { fake, ws, closes, messages } = wire();
    ws.close(4002, 'replaced');
    ws.close(1000, 'second close is ignored');
    await nextTick();
    assert.equal(fake.writes.length, 1);
    const sent = takeServerFrames(fake.writes[0]!).frames;
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.payload.readUInt16BE(0), 4002);
    assert.equal(sent[0]!.payload.subarray(2).toString(), 'replaced');
    assert.equal(fake.endCalls, 0, 'not ended before the peer answers');
    fake.emit('data', Buffer.concat([clientFrame(OPCODE.binary, Buffer.from('x')), clientFrame(OPCODE.ping), clientFrame(OPCODE.close, closeBody(4002))]));
    await nextTick();
    assert.equal(fake.writes.length, 1, 'no pong and no second close frame');
    assert.equal(fake.endCalls, 1);
    assert.deepEqual(messages, []);
    fake.emit('close');
    assert.deepEqual(closes, [[4002, 'replaced']]);
  });

  it('a protocol error sends its close code and ends at once', async () => {
    const { fake, closes } = wire();
    fake.emit('data', clientFrame(OPCODE.text, Buffer.from([0xff])));
    await nextTick();
    const { frames } = takeServerFrames(fake.writes[0]!);
    assert.equal(frames[0]!.payload.readUInt16BE(0), 1007);
    assert.equal(fake.endCalls, 1);
    fake.emit('close');
    assert.deepEqual(closes, [[1007, '']]);
  });

  it('a peer that half-closes is ended without a close frame; onClose reports 1006', async () => {
    const { fake, ws, closes } = wire();
    fake.emit('end');
    assert.equal(ws.closing, true);
    await nextTick();
    assert.equal(fake.writes.length, 0);
    assert.equal(fake.endCalls, 1);
    fake.emit('close');
    assert.deepEqual(closes, [[1006, '']]);
  });
});
