/** Shared bits of the driver scripts: JSON-line output with a wall-clock stamp. */

/** One JSON object per line; `t` (ms since the epoch) lets the test compare processes on one machine. */
export function emit(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ...event, t: Date.now() }) + '\n');
}

export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Repeats `attempt` until it returns true. */
export async function forever(attempt: () => Promise<boolean>): Promise<void> {
  while (!(await attempt())) {
    // attempt() itself waits (flush has a timeout), so this loop does not spin.
  }
}
