/** Errors of the relay process itself (configuration, storage lifecycle); wire errors use RelayError from @pigeon/api. */
export const RELAY_SERVER_ERROR_CODES = [
  'BAD_OPTION', // an option or command-line flag is invalid
  'SCHEMA_TOO_NEW', // the database was written by a newer relay
  'STORE_CLOSED', // a store call after close()
  'STORE_FAILED', // the database did not complete a batched operation (nothing of it committed); safe to retry
  'BAD_STATE', // start() twice, or the relay was stopped
] as const;
export type RelayServerErrorCode = (typeof RELAY_SERVER_ERROR_CODES)[number];

export class RelayServerError extends Error {
  override readonly name = 'RelayServerError';
  constructor(
    readonly code: RelayServerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
