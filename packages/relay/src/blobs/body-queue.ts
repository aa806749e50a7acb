/**
 * A request body read from the moment the request arrives. A PATCH handler looks up the upload
 * and opens its bytes before it consumes the body; if the client dropped the connection during
 * those awaits, Node destroys the request and the bytes it had buffered are lost, so "commit what
 * arrived before the drop" committed nothing. Listening at once keeps every chunk that arrived;
 * the queue pauses the socket past `highWaterBytes` (back-pressure while the handler writes).
 */
import type { Readable } from 'node:stream';

export const BODY_QUEUE_HIGH_WATER_BYTES = 4 * 1024 * 1024;

export class BodyQueue {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private dropped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly body: Readable,
    private readonly highWaterBytes = BODY_QUEUE_HIGH_WATER_BYTES,
  ) {
    body.on('data', this.onData);
    body.on('end', () => {
      this.ended = true;
      this.notify();
    });
    const drop = () => {
      if (!this.ended) this.dropped = true;
      this.notify();
    };
    body.on('error', drop);
    body.on('close', drop);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= this.highWaterBytes) this.body.pause();
    this.notify();
  };

  /**
   * Stops queueing: the rest of the body is read and thrown away. For a refused request (Node
   * discards an unread body by itself only when nobody started reading it).
   */
  release(): void {
    this.body.off('data', this.onData);
    this.chunks = [];
    this.queued = 0;
    this.body.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next chunk; null once the body ended; throws once the connection dropped and every chunk that came was taken. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.queued -= chunk.length;
        if (this.queued < this.highWaterBytes && this.body.isPaused()) this.body.resume();
        return chunk;
      }
      if (this.ended) return null;
      if (this.dropped) throw new Error('the connection dropped');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
