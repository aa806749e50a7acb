/** A tiny typed event emitter (no platform EventEmitter, so the core runs in browsers). */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(event: K, fn: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as (value: never) => void);
    return () => {
      set.delete(fn as (value: never) => void);
    };
  }

  /** A throwing listener must not break the SDK's bookkeeping; its error is reported, not rethrown. */
  emit<K extends keyof Events>(event: K, value: Events[K], onError?: (err: unknown) => void): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (value: Events[K]) => void)(value);
      } catch (err) {
        onError?.(err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
