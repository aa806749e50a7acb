/**
 * Runs async tasks one at a time, in order. Every read-modify-write of ratchet state goes
 * through one of these: two interleaved encrypts from the same session record would fork the
 * ratchet (the second would reuse the first's message key).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
