/**
 * Admission control (RelayLimits.maxPendingSends): past saturation a relay that takes every send
 * queues them in its group commit, the commits grow, deliveries are acknowledged later, more
 * messages sit unacknowledged in the mailbox tables, every write into those bigger indexes costs
 * more, and throughput collapses (measured: a relay delivering 15k msgs/s at 16k offered fell to
 * 10k at 32k offered). So the sends issued and not yet answered are counted relay-wide, and a send
 * beyond `maxPendingSends` is refused at once with RATE_LIMITED and a short, jittered retryAfterMs:
 * the client keeps it in its outbox and sends it again (clients/SDK honour retryAfterMs).
 *
 * Refusing, not pausing the socket: a paused socket also holds back the acks that device sends,
 * and acks are what empty the mailboxes; reading on keeps the relay at its best rate.
 */
export const BUSY_RETRY_MIN_MS = 100;
export const BUSY_RETRY_SPREAD_MS = 200;

export class SendAdmission {
  private pending = 0;
  /** Sends refused since start (also counted in messagesIn{result="busy"}). */
  refused = 0;

  constructor(
    private readonly maxPending: number,
    private readonly random: () => number = Math.random,
  ) {}

  get pendingSends(): number {
    return this.pending;
  }

  /** `maxPendingSends` are waiting: a send now would be refused. */
  get full(): boolean {
    return this.pending >= this.maxPending;
  }

  /** Counts a refusal made without tryBegin (a send refused before it was decoded). */
  refuse(): void {
    this.refused++;
  }

  /** Counts a send in, or returns false when `maxPendingSends` are already waiting. */
  tryBegin(): boolean {
    if (this.pending >= this.maxPending) {
      this.refused++;
      return false;
    }
    this.pending++;
    return true;
  }

  /** A send counted by tryBegin was answered (ok or error). */
  end(): void {
    this.pending--;
  }

  /** How long a refused client should wait: jittered so refused clients do not return together. */
  retryAfterMs(): number {
    return BUSY_RETRY_MIN_MS + Math.floor(this.random() * BUSY_RETRY_SPREAD_MS);
  }
}
