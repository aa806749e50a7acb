/**
 * What a load-generating child process (delivery/loadgen-child.ts, load/driver-child.ts) does in
 * every measured step: an open-loop send schedule, a drain, latency samples, and the send time
 * that travels inside the payload.
 */

/** Open-loop scheduler tick. */
export const TICK_MS = 2;
/** Unanswered sends above this are skipped and counted: the client-side saturation signal. */
export const MAX_OUTSTANDING_SENDS = 20_000;
/** Bytes queued on one socket above which its sends are skipped and counted. */
export const MAX_QUEUED_BYTES = 4 << 20;
/** A step's drain ends after this long without a delivery of the step. */
const QUIET_MS = 300;

/**
 * Milliseconds since the epoch, sub-millisecond: the sender stamps it into the payload and the
 * recipient (another process on the same machine, same clock) subtracts it.
 */
export const now = (): number => performance.timeOrigin + performance.now();

/** What every load-generating child counts per step and reports to its coordinator. */
export interface StepCounts {
  /** Messages the open-loop schedule called for. */
  offered: number;
  /** Sends actually written to a socket. */
  sent: number;
  /** Sends skipped because too many were unanswered or the socket was backed up (client-side saturation). */
  skipped: number;
  /** Server `ok` replies to sends, and errors by code. */
  sendOk: number;
  sendErrors: Record<string, number>;
  /** Deliveries of this step's messages to this process's endpoints, in the step window / in total. */
  deliveredInWindow: number;
  delivered: number;
  duplicates: number;
}

export function freshStepCounts(): StepCounts {
  return { offered: 0, sent: 0, skipped: 0, sendOk: 0, sendErrors: {}, deliveredInWindow: 0, delivered: 0, duplicates: 0 };
}

/** Only the counts of a step's accounting (which also holds samples and sets that stay in the child). */
export function stepCountsOf(s: StepCounts): StepCounts {
  return {
    offered: s.offered,
    sent: s.sent,
    skipped: s.skipped,
    sendOk: s.sendOk,
    sendErrors: s.sendErrors,
    deliveredInWindow: s.deliveredInWindow,
    delivered: s.delivered,
    duplicates: s.duplicates,
  };
}

/** Latency samples: all of them up to `max`, a uniform reservoir beyond. */
export class Samples {
  readonly values: number[] = [];
  private seen = 0;

  constructor(private readonly max: number) {}

  add(v: number): void {
    this.seen++;
    if (this.values.length < this.max) this.values.push(v);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.max) this.values[j] = v;
    }
  }
}

export interface OpenLoop {
  /** End of the sending window, ms since the epoch (comparable with `now()`). */
  readonly windowEnd: number;
  /** This process's CPU time over the sending window; resolves when the window is over. */
  readonly cpu: Promise<NodeJS.CpuUsage>;
}

/**
 * Calls `sendOne` `ratePerSecond` times a second for `seconds`. Open loop: the schedule decides
 * how many messages are due, whatever the server does, so a slow server cannot slow the offered
 * rate down. `windowEnd` is set before the first send (deliveries may come back at once).
 */
export function startOpenLoop(ratePerSecond: number, seconds: number, sendOne: () => void): OpenLoop {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let scheduled = 0;
  const cpu = new Promise<NodeJS.CpuUsage>((resolve) => {
    const timer = setInterval(() => {
      const t = Math.min(performance.now(), end);
      const due = Math.floor(((t - start) / 1000) * ratePerSecond);
      while (scheduled < due) {
        scheduled++;
        sendOne();
      }
      if (t >= end) {
        clearInterval(timer);
        resolve(process.cpuUsage(cpuStart));
      }
    }, TICK_MS);
  });
  return { windowEnd: performance.timeOrigin + end, cpu };
}

/**
 * A step past saturation leaves a backlog of unanswered sends; the next step waits for it (up to
 * this long after `drainMs`), or it would measure the server still working off the previous one.
 */
export const BACKLOG_DRAIN_MS = 60_000;

/**
 * After the window: waits until this process's sends are all answered and no delivery of the
 * step came for QUIET_MS (other processes' messages may still be arriving), or `drainMs` is up;
 * while sends are still unanswered, up to BACKLOG_DRAIN_MS longer.
 */
export async function drainStep(drainMs: number, outstanding: () => number, lastDeliveryAt: () => number): Promise<void> {
  const start = performance.now();
  const quietEnd = start + drainMs;
  const backlogEnd = quietEnd + BACKLOG_DRAIN_MS;
  for (;;) {
    const t = performance.now();
    const answered = outstanding() === 0;
    if (answered && (t >= quietEnd || now() - lastDeliveryAt() >= QUIET_MS)) return;
    if (t >= backlogEnd) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
