/** The real seams: node:net for dialing, node:dns for names, plus a fixed table for tests. */
import { connect, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Duplex } from 'node:stream';
import { LabError, NetError, toNetError } from './errors.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './seams.js';
import type { DialOptions, Dialer, Resolver } from './seams.js';
import { normalizeName } from './address.js';

export const realDialer: Dialer = {
  dial(options: DialOptions): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      if (options.signal?.aborted === true) {
        reject(new NetError('ECONNABORTED', 'dial aborted'));
        return;
      }
      const socket = connect({
        host: options.host,
        port: options.port,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      });
      let settled = false;
      const finish = (err: NetError | undefined) => {
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
      const onError = (err: unknown) => finish(toNetError(err, 'EHOSTUNREACH'));
      const onAbort = () => finish(new NetError('ECONNABORTED', 'dial aborted'));
      const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => finish(new NetError('ETIMEDOUT', `connect to ${options.host}:${options.port} timed out after ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      socket.once('connect', () => finish(undefined));
      socket.on('error', onError);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** The system resolver (getaddrinfo, so /etc/hosts and "localhost" work as they do for any program). */
export const realResolver: Resolver = {
  async resolve(name: string): Promise<string[]> {
    if (isIP(name) !== 0) return [name];
    try {
      const answers = await lookup(name, { all: true });
      if (answers.length === 0) throw new NetError('ENOTFOUND', `no address for ${name}`);
      return answers.map((a) => a.address);
    } catch (err) {
      throw toNetError(err, 'ENOTFOUND');
    }
  },
};

/**
 * A resolver answering from a fixed table ("relay.example" -> "127.0.0.1"), so lab scenarios can
 * use realistic names on loopback. Names not in the table go to `fallback`, or fail with ENOTFOUND.
 */
export function staticResolver(table: Readonly<Record<string, string | readonly string[]>>, fallback?: Resolver): Resolver {
  const entries = new Map<string, string[]>();
  for (const [name, value] of Object.entries(table)) {
    const list = typeof value === 'string' ? [value] : [...value];
    for (const ip of list) if (isIP(ip) === 0) throw new LabError('BAD_OPTION', `not an IP address for ${name}: ${ip}`);
    entries.set(normalizeName(name), list);
  }
  return {
    async resolve(name: string): Promise<string[]> {
      if (isIP(name) !== 0) return [name];
      const hit = entries.get(normalizeName(name));
      if (hit !== undefined) return [...hit];
      if (fallback !== undefined) return fallback.resolve(name);
      throw new NetError('ENOTFOUND', `no address for ${name}`);
    },
  };
}
