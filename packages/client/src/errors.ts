/** Stable error codes of the client SDK. Callers (CLI, web app, tests) switch on them, never on message text. */
export const CLIENT_ERROR_CODES = [
  'NOT_INITIALIZED',
  'ALREADY_INITIALIZED',
  'UNKNOWN_CONTACT',
  'AMBIGUOUS_CONTACT',
  'BAD_LINK',
  'RELAY_UNREACHABLE',
  'RELAY_REJECTED',
  'TIMEOUT',
  'MESSAGE_TOO_LONG',
  'BAD_ARGUMENT',
  'CLOSED',
  'STORE_ERROR',
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isClientError(err: unknown, code?: ClientErrorCode): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}
