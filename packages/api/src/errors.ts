/** Wire error codes. Stable: clients switch on them; docs/relay-api.md documents each. */
export const RELAY_ERROR_CODES = [
  'BAD_FRAME', // undecodable bytes, trailing bytes, oversized field
  'UNSUPPORTED_VERSION',
  'FRAME_TOO_LARGE',
  'UNEXPECTED_FRAME', // a relay->client frame type sent by a client, or a request in the wrong state
  'NOT_AUTHENTICATED',
  'ALREADY_AUTHENTICATED',
  'AUTH_FAILED', // bad signature over the challenge, unknown device, replayed challenge
  'BAD_CERTIFICATE',
  'BAD_SIGNATURE', // a prekey signature that does not verify
  'UNKNOWN_ACCOUNT',
  'UNKNOWN_RECIPIENT',
  'BAD_DELIVERY_TOKEN',
  'NO_PREKEYS', // the device never uploaded a signed prekey + ML-KEM last-resort prekey
  'MAILBOX_FULL',
  'RATE_LIMITED',
  'TOO_MANY_CONNECTIONS',
  'LIMIT_EXCEEDED', // too many prekeys/tokens/ids in one request
  'INTERNAL',
  // Linked devices (append-only: the u8 on the wire is the index)
  'BAD_DEVICE_LIST', // undecodable, not signed by the account key, or of another account
  'STALE_DEVICE_LIST', // counter not above the stored list's (or same counter, other contents)
  'DEVICE_NOT_LISTED', // register/auth of a device not in the account's signed list (revoked)
  'UNKNOWN_PROVISIONING', // provision_send to a mailbox that is not open (never, expired, or already delivered)
  'PROVISIONING_CLOSED', // provision_open of an id in use, or provision_send to a mailbox that already holds its message
] as const;
export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number];

/** WebSocket close codes the relay uses (4000-4999 is the application range). */
export const CLOSE_CODES = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  INTERNAL: 1011, // the relay could not carry out what the connection needs (e.g. a quiet ack failed); reconnect
  BAD_FRAMES: 4000, // too many undecodable frames
  AUTH_TIMEOUT: 4001,
  REPLACED: 4002, // the same device connected again elsewhere
  TOO_MANY_CONNECTIONS: 4003,
  RATE_LIMITED: 4004,
  REVOKED: 4005, // the device was removed from its account's signed device list
} as const;

/** A relay error as the client SDK surfaces it. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    readonly retryAfterMs = 0,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
