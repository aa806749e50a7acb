/** Time-limited block lists ("residual blocking"), keyed by strings, read against the censor's clock. */
import type { Clock } from '../clock.js';
import { LabError } from '../errors.js';

/** Entries kept before the oldest expiring are evicted, so a long benchmark cannot grow without bound. */
export const MAX_RESIDUAL_ENTRIES = 100_000;

export class ResidualTable {
  private readonly until = new Map<string, number>();

  block(clock: Clock, key: string, ms: number): void {
    if (ms <= 0) return;
    if (this.until.size >= MAX_RESIDUAL_ENTRIES) this.purge(clock);
    if (this.until.size >= MAX_RESIDUAL_ENTRIES) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.set(key, Math.max(this.until.get(key) ?? 0, clock.now() + ms));
  }

  /** Remaining milliseconds of the block, or 0. */
  remaining(clock: Clock, key: string): number {
    const t = this.until.get(key);
    if (t === undefined) return 0;
    const left = t - clock.now();
    if (left <= 0) {
      this.until.delete(key);
      return 0;
    }
    return left;
  }

  private purge(clock: Clock): void {
    const now = clock.now();
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
  }
}

export function checkDuration(name: string, ms: number, allowInfinite = false): number {
  if (Number.isNaN(ms) || ms < 0 || (!allowInfinite && !Number.isFinite(ms))) throw new LabError('BAD_OPTION', `${name} must be a non-negative number of ms`);
  return ms;
}

export function checkPositiveInt(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new LabError('BAD_OPTION', `${name} must be a positive integer`);
  return n;
}

export function secondsText(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms / 100) / 10} s` : 'ever';
}
