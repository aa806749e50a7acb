/**
 * The network seams, declared here with the same structural shape as packages/lab's (the lab must
 * never be a production dependency): every route opens its TCP streams through a Dialer and its
 * names through a Resolver, so a test can put a simulated censor on the wire.
 */
import { connect, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Duplex } from 'node:stream';

export interface DialOptions {
  /** An IP address (routes resolve names themselves, so DNS failures are attributed to DNS). */
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Opens a TCP stream; rejects with an Error whose `code` is Node's errno name. */
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
      const timer = setTimeout(() => finish(errnoError('ETIMEDOUT', `connect timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => finish(undefined));
      socket.on('error', onError);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

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
