/** Progress reporting and retry pacing shared by uploads and downloads. */

export interface TransferProgress {
  readonly phase: 'upload' | 'download';
  /** Blob bytes done (sent / received and verified so far). */
  readonly done: number;
  /** Blob size (padded ciphertext). */
  readonly total: number;
  /** Consecutive failed attempts so far (0 while all is well). */
  readonly retries?: number;
}

export interface TransferOptions {
  readonly onProgress?: (progress: TransferProgress) => void;
  /** Consecutive failures without progress before giving up (RELAY_UNREACHABLE). Default 10. */
  readonly maxRetries?: number;
  /** First retry pause; doubles per consecutive failure up to MAX_RETRY_DELAY_MS. Default 250 ms. */
  readonly retryBaseMs?: number;
  /** A connection that moves nothing for this long is dropped and the transfer resumed. */
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_RETRY_BASE_MS = 250;
export const MAX_RETRY_DELAY_MS = 10_000;

export function retryDelay(failures: number, options: TransferOptions): Promise<void> {
  const base = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const ms = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** Math.max(0, failures - 1));
  // Jitter so many clients that lost the same link do not come back in lockstep.
  const jittered = ms / 2 + Math.random() * (ms / 2);
  return new Promise((resolve) => setTimeout(resolve, jittered));
}
