import { RelayError, type RelayErrorCode } from './errors.js';

/**
 * Raised by the frame codec. A RelayError (so the client handles one error class), plus the
 * request id when the header got far enough to read it, so the relay can answer the request
 * that carried the bad field (0 = not a reply to any request).
 */
export class ApiDecodeError extends RelayError {
  constructor(
    code: Extract<RelayErrorCode, 'BAD_FRAME' | 'UNSUPPORTED_VERSION' | 'UNEXPECTED_FRAME' | 'FRAME_TOO_LARGE' | 'LIMIT_EXCEEDED'>,
    message: string,
    readonly requestId = 0,
    options?: { cause?: unknown },
  ) {
    super(code, message, 0, options);
  }
}
