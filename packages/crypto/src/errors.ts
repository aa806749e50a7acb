/** Stable error codes of the crypto layer. Tests assert codes, never message text. */
export const CRYPTO_ERROR_CODES = [
  'BAD_TAG',
  'BAD_KEY_LENGTH',
  'BAD_NONCE_LENGTH',
  'LOW_ORDER_POINT',
  'BAD_INPUT',
] as const;
export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[number];

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
