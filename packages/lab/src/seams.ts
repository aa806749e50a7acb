/**
 * The network seams: the only two things a client or bridge needs from the network to open a
 * stream. Production code passes the real ones (real-net.ts); tests pass a Censor's, which carry
 * the same bytes to the same servers but judge them on the way.
 *
 * These are small structural types on purpose (as Hono adapters declare what they need): a package
 * that must not depend on the lab declares the same shape and accepts either implementation.
 */
import type { Duplex } from 'node:stream';

export interface DialOptions {
  /** An IP address, or a name the dialer resolves itself. */
  readonly host: string;
  readonly port: number;
  /** Source address to bind; the censor also treats it as the client's address. */
  readonly localAddress?: string;
  /** Connect timeout; DEFAULT_CONNECT_TIMEOUT_MS when absent. A dropped SYN fails with ETIMEDOUT after it. */
  readonly timeoutMs?: number;
  /** Aborting rejects a pending dial with ECONNABORTED (an established stream is the caller's to destroy). */
  readonly signal?: AbortSignal;
}

/**
 * Opens a TCP stream. Resolves once connected; rejects with a NetError whose code is
 * ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND or ECONNABORTED.
 * The stream errors with ECONNRESET when reset, and simply goes quiet when a censor drops it.
 */
export interface Dialer {
  dial(options: DialOptions): Promise<Duplex>;
}

/** Resolves a name to IP addresses; rejects with a NetError ENOTFOUND for NXDOMAIN. */
export interface Resolver {
  resolve(name: string): Promise<string[]>;
}

/** Real TCP connect timeout when the caller gives none. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
