/** Small socket helpers for the lab's tests: collect bytes, wait for conditions, capture a ClientHello. */
import { createServer, connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { parseClientHello } from '../../src/client-hello.js';

/** Polls `check` every few ms until true; fails after `timeoutMs` with `what`. Not a timing assertion: a safety net. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending I/O callbacks run (a few event-loop turns), so "nothing happened" means something. */
export async function settleIo(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export interface Collector {
  readonly bytes: () => number;
  readonly data: () => Buffer;
  readonly ended: () => boolean;
  readonly error: () => (Error & { code?: string }) | undefined;
  readonly closed: () => boolean;
}

export function collect(stream: Duplex): Collector {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  let closed = false;
  let error: (Error & { code?: string }) | undefined;
  stream.on('data', (c: Buffer) => {
    chunks.push(c);
    size += c.length;
  });
  stream.on('end', () => (ended = true));
  stream.on('close', () => (closed = true));
  stream.on('error', (e: Error) => (error = e));
  return { bytes: () => size, data: () => Buffer.concat(chunks), ended: () => ended, error: () => error, closed: () => closed };
}

/** TLS over an already-dialed stream, resolving once the handshake completes (or rejecting with its error). */
export function tlsOver(socket: Duplex, servername: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tlsConnect({ socket, servername, rejectUnauthorized: false });
    t.once('secureConnect', () => {
      t.off('error', reject);
      resolve(t);
    });
    t.once('error', reject);
  });
}

/** What node's own TLS client sends as its first flight for `servername` (captured on a local socket). */
export async function captureNodeClientHello(servername: string, alpn?: string[]): Promise<Uint8Array> {
  let received = Buffer.alloc(0);
  let client: TLSSocket | undefined;
  const done = new Promise<Uint8Array>((resolve) => {
    const server = createServer((s: Socket) => {
      s.on('data', (c: Buffer) => {
        received = Buffer.concat([received, c]);
        if (parseClientHello(received).status !== 'incomplete') {
          s.destroy();
          server.close();
          resolve(new Uint8Array(received));
        }
      });
      s.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      client = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...(alpn !== undefined ? { ALPNProtocols: alpn } : {}) });
      client.on('error', () => undefined);
    });
  });
  const hello = await done;
  client?.destroy();
  return hello;
}

/** A raw TCP connection straight to a server (bypassing any censor). */
export function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A rejection's NetError code (or undefined when it resolved). */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

/** Lets pending async steps (a dial resolving a name first) register their timers, then moves the clock. */
export async function advance(clock: { advance(ms: number): void }, ms: number): Promise<void> {
  await settleIo(3);
  clock.advance(ms);
}
