/**
 * A small least-recently-used map with a hard size bound: a Map keeps insertion order, so a
 * hit is re-inserted at the end and the first key is the eviction candidate. Used by the
 * node:crypto backend to keep recently used KeyObjects (see backend-node.node.ts).
 */
export class BoundedLru<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get(id: string): V | undefined {
    const value = this.entries.get(id);
    if (value !== undefined) {
      this.entries.delete(id);
      this.entries.set(id, value);
    }
    return value;
  }

  set(id: string, value: V): void {
    this.entries.delete(id);
    this.entries.set(id, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
