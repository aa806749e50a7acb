/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a relay
 * restart is not met by every client at the same instant, yet no client waits near zero.
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Returns a number in [0, 1). */
  readonly random: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (options.random() * exp) / 2);
}
