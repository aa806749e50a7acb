/**
 * A minimal HTTP/1.1 client for the tunnel: one request at a time on a kept-alive connection, with
 * exact byte accounting (the whole point is that no connection carries more than its budget, so
 * the bytes must be counted here, not guessed inside an http.Agent). Responses must carry
 * Content-Length (the bridge always sends it); chunked or oversized responses fail the exchange.
 */
import type { Duplex } from 'node:stream';
import { TransportError } from './errors.js';

/** Largest response head we accept. */
export const MAX_RESPONSE_HEAD_BYTES = 4096;

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
  /** The server said it will close the connection. */
  readonly closing: boolean;
}

export class ExchangeConnection {
  /** Bytes written / read on this connection (HTTP heads included). */
  sent = 0;
  received = 0;
  exchanges = 0;
  dead = false;
  private buf = Buffer.alloc(0);
  private waiter: ((err?: Error) => void) | undefined;

  constructor(private readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.buf = Buffer.concat([this.buf, chunk]);
      this.waiter?.();
    });
    const end = () => {
      this.dead = true;
      this.waiter?.(new TransportError('TUNNEL_FAILED', 'connection closed'));
    };
    stream.on('error', end);
    stream.on('close', end);
    stream.on('end', end);
  }

  close(): void {
    this.dead = true;
    this.stream.destroy();
  }

  exchange(head: string, body: Uint8Array, maxBody: number, timeoutMs: number): Promise<HttpResponse> {
    if (this.dead) return Promise.reject(new TransportError('TUNNEL_FAILED', 'connection is closed'));
    this.exchanges++;
    const headBytes = Buffer.from(head, 'latin1');
    this.sent += headBytes.length + body.length;
    this.stream.write(Buffer.concat([headBytes, body]));
    return new Promise<HttpResponse>((resolve, reject) => {
      const timer = setTimeout(() => finish(new TransportError('TIMEOUT', 'tunnel exchange timed out')), timeoutMs);
      const finish = (err?: Error, res?: HttpResponse) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (err !== undefined) {
          this.close();
          reject(err);
        } else resolve(res!);
      };
      const check = (err?: Error) => {
        if (err !== undefined) return finish(err);
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.buf.length > MAX_RESPONSE_HEAD_BYTES) finish(new TransportError('TUNNEL_FAILED', 'response head too long'));
          return;
        }
        const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
        if (status === null) return finish(new TransportError('TUNNEL_FAILED', 'not an HTTP response'));
        let length = -1;
        let closing = false;
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).trim().toLowerCase();
          const value = line.slice(colon + 1).trim();
          if (name === 'content-length') length = Number(value);
          else if (name === 'connection' && value.toLowerCase() === 'close') closing = true;
          else if (name === 'transfer-encoding') return finish(new TransportError('TUNNEL_FAILED', 'unexpected transfer-encoding'));
        }
        if (!Number.isInteger(length) || length < 0) return finish(new TransportError('TUNNEL_FAILED', 'response without Content-Length'));
        if (length > maxBody + MAX_RESPONSE_HEAD_BYTES) return finish(new TransportError('TUNNEL_FAILED', 'response larger than asked for'));
        if (this.buf.length < end + 4 + length) return;
        const bodyOut = Buffer.from(this.buf.subarray(end + 4, end + 4 + length));
        this.buf = this.buf.subarray(end + 4 + length);
        if (closing) this.dead = true;
        finish(undefined, { status: Number(status[1]), body: bodyOut, closing });
      };
      this.waiter = check;
      check();
    });
  }
}
