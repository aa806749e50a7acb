/**
 * The network seams: the only two things a route needs from the network. Every TCP stream goes
 * through a Dialer and every name lookup through a Resolver, so a test can put a simulated censor
 * on the wire. This is the one declaration: packages/lab (test tooling) imports these types and
 * the real implementations from here and re-exports them; production code never imports the lab.
 * The types are small and structural on purpose, so a censor's dialer satisfies them as is.
 */
import { connect, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Duplex } from 'node:stream';

export interface DialOptions {
  /**
   * An IP address, or a name the dialer resolves itself. Routes pass IP addresses: they resolve
   * names first, so a DNS failure is reported as DNS and not as a failed connect.
   */
  readonly host: string;
  readonly port: number;
  /** Source address to bind (a censor also treats it as the client's address). */
  readonly localAddress?: string;
  /** Connect timeout; DEFAULT_DIAL_TIMEOUT_MS when absent. A dropped SYN fails with ETIMEDOUT after it. */
  readonly timeoutMs?: number;
  /** Aborting rejects a pending dial with ECONNABORTED (an established stream is the caller's to destroy). */
  readonly signal?: AbortSignal;
}

/**
 * Opens a TCP stream. Resolves once connected; rejects with an Error whose `code` is Node's errno
 * name (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND, ECONNABORTED, ...). An open stream
 * errors with ECONNRESET when reset, and simply goes quiet when a censor drops it.
 */
export interface Dialer {
  dial(options: DialOptions): Promise<Duplex>;
}

/** Resolves a name to IP addresses; rejects with code ENOTFOUND. */
export interface Resolver {
  resolve(name: string): Promise<string[]>;
}

export interface NetSeams {
  readonly dialer: Dialer;
  readonly resolver: Resolver;
}

/** Connect timeout when a route gives none (a dropped SYN shows up as ETIMEDOUT after it). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

function errnoError(code: string, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { code });
}

/** node:net; a socket error is passed on as Node raised it (its `code` is the errno name). */
export const realDialer: Dialer = {
  dial(options: DialOptions): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      if (options.signal?.aborted === true) {
        reject(errnoError('ECONNABORTED', 'dial aborted'));
        return;
      }
      const socket = connect({
        host: options.host,
        port: options.port,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      });
      let settled = false;
      const finish = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (err === undefined) resolve(socket);
        else {
          socket.destroy();
          reject(err);
        }
      };
      const onError = (err: unknown) => finish(err instanceof Error ? err : errnoError('EHOSTUNREACH', String(err)));
      const onAbort = () => finish(errnoError('ECONNABORTED', 'dial aborted'));
      const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
      const timer = setTimeout(() => finish(errnoError('ETIMEDOUT', `connect to ${options.host}:${options.port} timed out after ${timeoutMs} ms`)), timeoutMs);
      // The connecting socket keeps the process alive; the timer alone need not.
      timer.unref();
      socket.once('connect', () => finish(undefined));
      socket.on('error', onError);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** The system resolver (getaddrinfo, so /etc/hosts and "localhost" work as for any program). */
export const realResolver: Resolver = {
  async resolve(name: string): Promise<string[]> {
    if (isIP(name) !== 0) return [name];
    try {
      const answers = await lookup(name, { all: true });
      if (answers.length === 0) throw errnoError('ENOTFOUND', `no address for ${name}`);
      return answers.map((a) => a.address);
    } catch (err) {
      throw errnoError('ENOTFOUND', `no address for ${name}`, err);
    }
  },
};

export const realNet: NetSeams = { dialer: realDialer, resolver: realResolver };
