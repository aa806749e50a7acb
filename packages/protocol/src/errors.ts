/** Stable error codes of the protocol layer (docs/protocol.md lists when each is raised). */
export const PROTOCOL_ERROR_CODES = [
  'TRUNCATED',
  'TRAILING_BYTES',
  'UNKNOWN_VERSION',
  'UNKNOWN_TYPE',
  'FIELD_TOO_LARGE',
  'BAD_FIELD',
  'BAD_SIGNATURE',
  'BAD_CERTIFICATE',
  'MISSING_PQ_PREKEY',
  'DECRYPT_FAILED',
  'DUPLICATE_MESSAGE',
  'TOO_MANY_SKIPPED',
  'NO_SESSION',
  'UNKNOWN_PREKEY',
  'IDENTITY_MISMATCH',
  'BAD_PADDING',
  // Groups (docs/protocol.md §12)
  'WRONG_GROUP',
  'NOT_A_MEMBER',
  'NOT_ADMIN',
  'INVALID_CHANGE',
  'LAST_ADMIN',
  'GROUP_FULL',
  'STALE_CHANGE',
  'UNKNOWN_PARENT',
  'DUPLICATE_CHANGE',
  'UNKNOWN_SENDER_KEY',
  'STALE_SENDER_KEY',
  // Linked devices (docs/protocol.md §13)
  'STALE_DEVICE_LIST',
  'DEVICE_LIST_FULL',
  'DEVICE_REVOKED',
  'NOT_IN_DEVICE_LIST',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
