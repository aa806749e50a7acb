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
  /** The contact's keys changed; the user must acknowledge it (acknowledgeKeyChange) before sending. */
  'IDENTITY_CHANGED',
  /** An attachment chunk, the blob digest or its padding does not verify (docs/attachments.md). */
  'ATTACHMENT_TAMPERED',
  /** A file above MAX_ATTACHMENT_BYTES. */
  'ATTACHMENT_TOO_LARGE',
  /** The file changed while it was being uploaded (resuming would reuse nonces on other data). */
  'FILE_CHANGED',
  /** Reading or writing a local file failed. */
  'FILE_ERROR',
  /** No such message, or it carries no attachment. */
  'UNKNOWN_MESSAGE',
  /** No such group (or we are no longer a member). */
  'UNKNOWN_GROUP',
  /** More than one group has that name: use its id. */
  'AMBIGUOUS_GROUP',
  /** The group's rules refuse the change (not an admin, the last admin leaving, ...). */
  'GROUP_PERMISSION',
  /** The group has MAX_GROUP_MEMBERS members. */
  'GROUP_FULL',
  /** Only the device holding the account key may do this (group changes, linking and revoking devices). */
  'ACCOUNT_KEY_REQUIRED',
  /** No such device of this account. */
  'UNKNOWN_DEVICE',
  /** Linking failed: the provisioning message did not open, or was not for this device. */
  'LINK_FAILED',
  /** The caller's AbortSignal stopped the transfer (an unfinished upload is deleted on the relay). */
  'CANCELLED',
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
