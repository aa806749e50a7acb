/**
 * Two error classes, each with a closed list of codes (tests assert codes, never messages).
 *
 * NetError is what a dial, a resolve or a connection fails with. Its codes are deliberately the
 * errno names Node itself uses (ECONNREFUSED, ETIMEDOUT, ...): a client that handles the errors of
 * a real network handles the simulated censor's identically, and cannot tell them apart.
 *
 * LabError is misuse of the lab itself (a bad rule option, a call after close()).
 */
export const NET_ERROR_CODES = [
  'ECONNREFUSED', // the destination (or a censor injecting RST to the SYN) refused the connection
  'ETIMEDOUT', // connect did not complete before the dial timeout (a censor dropping the SYN)
  'ECONNRESET', // an established connection was reset (a censor injecting RST)
  'ENOTFOUND', // name resolution failed (NXDOMAIN, real or injected)
  'EHOSTUNREACH', // any other network failure on connect (no route, bad address)
  'ECONNABORTED', // the dial was aborted by its signal or by closing the censor
] as const;
export type NetErrorCode = (typeof NET_ERROR_CODES)[number];

export class NetError extends Error {
  override readonly name = 'NetError';
  constructor(
    readonly code: NetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const LAB_ERROR_CODES = [
  'BAD_OPTION', // a rule or helper option is out of range or malformed
  'BAD_STATE', // the censor or server was used after close()
  'NO_CERTIFICATE', // neither openssl nor the test-only fixture could provide a certificate
] as const;
export type LabErrorCode = (typeof LAB_ERROR_CODES)[number];

export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(
    readonly code: LabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps a Node socket/dns error onto the closed NetError codes, keeping the original as cause. */
export function toNetError(err: unknown, fallback: NetErrorCode): NetError {
  if (err instanceof NetError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const known = (NET_ERROR_CODES as readonly string[]).includes(code) ? (code as NetErrorCode) : undefined;
  const mapped: NetErrorCode =
    known ??
    (code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL' || code === 'EINVAL'
      ? 'EHOSTUNREACH'
      : code === 'EPIPE'
        ? 'ECONNRESET'
        : code === 'ENODATA' || code === 'ESERVFAIL' || code === 'EAI_AGAIN'
          ? 'ENOTFOUND'
          : fallback);
  const message = err instanceof Error ? err.message : String(err);
  return new NetError(mapped, message, { cause: err });
}
