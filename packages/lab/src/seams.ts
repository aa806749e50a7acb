/**
 * The network seams: the only two things a client or bridge needs from the network to open a
 * stream. Production code passes the real ones (real-net.ts); tests pass a Censor's, which carry
 * the same bytes to the same servers but judge them on the way.
 *
 * Declared once, in @pigeon/transport (production code must never import the lab; the lab may
 * import production code). The lab's promise on top of that shape: its dialers and resolvers
 * reject with a NetError whose code is ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND or
 * ECONNABORTED, and a censored stream errors with ECONNRESET when reset (errors.ts).
 */
import { DEFAULT_DIAL_TIMEOUT_MS } from '@pigeon/transport';

export type { DialOptions, Dialer, Resolver } from '@pigeon/transport';

/** Connect timeout when the caller gives none: the transport's, so a censor times out like the real network. */
export const DEFAULT_CONNECT_TIMEOUT_MS = DEFAULT_DIAL_TIMEOUT_MS;
