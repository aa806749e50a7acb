/**
 * Token bucket (capacity `burst`, refilled at `ratePerSecond`). Time comes from a monotonic
 * clock passed in by the caller, never from the wall clock, so clock jumps cannot refill it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }

  /** Takes one token; returns 0 on success, else how many ms until one is available. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    if (this.ratePerSecond <= 0) return 60_000;
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }

  /** Gives a token back (used when a second bucket refused the same request). */
  refund(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }
}
