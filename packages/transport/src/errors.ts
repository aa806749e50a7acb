/**
 * The transport's one error model: TransportError with a code from a closed list (tests assert
 * codes, never messages). Network failures below us keep Node's errno names in `cause`.
 */
export const TRANSPORT_ERROR_CODES = [
  'BAD_LINK', // a bridge/route link is malformed, truncated or from a newer version
  'BAD_ROUTE', // a route description is inconsistent (unknown kind, bad URL, bad port)
  'DNS_FAILED', // the name did not resolve (NXDOMAIN, poisoned to nothing)
  'CONNECT_FAILED', // TCP connect refused, timed out or unreachable
  'PROXY_FAILED', // the SOCKS5 / HTTP CONNECT proxy refused or answered nonsense
  'TLS_FAILED', // the TLS handshake failed or stalled
  'PIN_MISMATCH', // the server's certificate is not the one the link pins
  'UPGRADE_FAILED', // the WebSocket upgrade was refused (a website answered instead)
  'TUNNEL_FAILED', // a tunnel exchange failed in a way retrying cannot fix (session gone)
  'TIMEOUT', // a step did not finish in time
  'CLOSED', // the channel or racer was closed by its owner
  'NO_ROUTE', // the racer has no route that works right now
  'RATE_LIMITED', // the racer refused to dial: too many attempts to this destination
] as const;
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number];

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Node's errno name of an error, if any (ECONNREFUSED, ETIMEDOUT, ...). */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function codeOf(err: unknown): string {
  return errnoOf(err) ?? 'UNKNOWN';
}
