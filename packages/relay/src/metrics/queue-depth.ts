/**
 * Queue depth, sampled: every QUEUE_DEPTH_SAMPLE_INTERVAL_MS the mailbox usage of up to
 * QUEUE_DEPTH_SAMPLE_SIZE randomly chosen online devices of this node is read. Online mailboxes
 * should be nearly empty; a growing sample means delivery is falling behind. Counting every
 * mailbox would be a scan of the whole store per scrape; the sample costs a few key lookups.
 */
import type { RelayStore } from '../store/types.js';

export const QUEUE_DEPTH_SAMPLE_SIZE = 32;
export const QUEUE_DEPTH_SAMPLE_INTERVAL_MS = 15_000;

export interface QueueDepthSample {
  readonly messages: number;
  readonly maxMessages: number;
  readonly devices: number;
}

/** Reservoir sampling: `size` keys chosen uniformly from an iterator of unknown length. */
export function sampleKeys(keys: Iterable<string>, size: number, random: () => number = Math.random): string[] {
  const out: string[] = [];
  let seen = 0;
  for (const key of keys) {
    seen++;
    if (out.length < size) out.push(key);
    else {
      const j = Math.floor(random() * seen);
      if (j < size) out[j] = key;
    }
  }
  return out;
}

export class QueueDepthSampler {
  private last: QueueDepthSample = { messages: 0, maxMessages: 0, devices: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly store: RelayStore,
    private readonly onlineDevices: () => Iterable<string>,
  ) {}

  get value(): QueueDepthSample {
    return this.last;
  }

  start(intervalMs = QUEUE_DEPTH_SAMPLE_INTERVAL_MS): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const keys = sampleKeys(this.onlineDevices(), QUEUE_DEPTH_SAMPLE_SIZE);
      const usage = await Promise.all(keys.map((k) => this.store.mailboxUsage(Buffer.from(k, 'hex'))));
      this.last = {
        messages: usage.reduce((a, u) => a + u.messages, 0),
        maxMessages: usage.reduce((a, u) => Math.max(a, u.messages), 0),
        devices: usage.length,
      };
    } catch {
      // The store is down: keep the last sample; /healthz reports the outage.
    } finally {
      this.running = false;
    }
  }
}
