/**
 * The real seams: transport's node:net dialer and getaddrinfo resolver (one implementation for
 * production and lab), with their failures mapped onto the lab's NetError codes, plus a fixed
 * table for tests.
 */
import { isIP } from 'node:net';
import { realDialer as netDialer, realResolver as netResolver } from '@pigeon/transport';
import { LabError, NetError, toNetError } from './errors.js';
import type { Dialer, Resolver } from './seams.js';
import { normalizeName } from './address.js';

/** node:net via @pigeon/transport; rejects with a NetError (Node's errno name, mapped onto NET_ERROR_CODES). */
export const realDialer: Dialer = {
  dial: (options) =>
    netDialer.dial(options).catch((err: unknown) => {
      throw toNetError(err, 'EHOSTUNREACH');
    }),
};

/** The system resolver via @pigeon/transport (getaddrinfo: /etc/hosts and "localhost" work); NetError ENOTFOUND. */
export const realResolver: Resolver = {
  resolve: (name) =>
    netResolver.resolve(name).catch((err: unknown) => {
      throw toNetError(err, 'ENOTFOUND');
    }),
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
