/** Progress reporting, retry pacing and cancellation shared by uploads and downloads. */
import { ClientError } from '../errors.js';

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
  /** Stops the transfer: it rejects with CANCELLED (also while waiting to retry). */
  readonly signal?: AbortSignal;
}

export const DEFAULT_RETRY_BASE_MS = 250;
export const MAX_RETRY_DELAY_MS = 10_000;

/** Ends the transfer with CANCELLED once the caller's signal aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ClientError('CANCELLED', 'the transfer was cancelled');
}

/** Waits before the next attempt; a cancel ends the wait at once with CANCELLED. */
export function retryDelay(failures: number, options: TransferOptions): Promise<void> {
  const base = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const ms = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** Math.max(0, failures - 1));
  // Jitter so many clients that lost the same link do not come back in lockstep.
  const jittered = ms / 2 + Math.random() * (ms / 2);
  const signal = options.signal;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ClientError('CANCELLED', 'the transfer was cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, jittered);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
