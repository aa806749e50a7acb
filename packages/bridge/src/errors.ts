/** The bridge's error model: BridgeError with a code from a closed list. */
export const BRIDGE_ERROR_CODES = [
  'BAD_OPTION', // an option is missing, malformed or out of range
  'NO_CERTIFICATE', // no --tls-cert/--tls-key given and openssl could not make one
  'LISTEN_FAILED', // the port could not be bound
  'STATE_ERROR', // the data directory or its state file cannot be read or written
] as const;
export type BridgeErrorCode = (typeof BRIDGE_ERROR_CODES)[number];

export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
