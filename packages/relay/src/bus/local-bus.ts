/**
 * The in-process bus: the default for a single node, and a way to run several relays in one
 * process over a shared store (tests). Messages are dispatched in publish order on a microtask,
 * as a network bus would deliver them later, never inside the publisher's call stack; every
 * watcher of a channel sees the same order, which the claim rule relies on (cluster-directory.ts).
 */
import { type BusHandlers, type BusStatus, type ClaimOrigin, type RelayBus } from './types.js';

type Delivery = { readonly kind: 'doorbell' } | { readonly kind: 'claim'; readonly origin: ClaimOrigin };

/** Connects the LocalBus endpoints of one process. */
export class LocalBusHub {
  private readonly watchers = new Map<string, Set<LocalBus>>();

  /** A new endpoint for one relay. */
  endpoint(): LocalBus {
    return new LocalBus(this);
  }

  /** @internal */
  subscribe(key: string, bus: LocalBus): void {
    let set = this.watchers.get(key);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(key, set);
    }
    set.add(bus);
  }

  /** @internal */
  unsubscribe(key: string, bus: LocalBus): void {
    const set = this.watchers.get(key);
    if (set === undefined) return;
    set.delete(bus);
    if (set.size === 0) this.watchers.delete(key);
  }

  /** @internal */
  publish(key: string, delivery: Delivery): void {
    const set = this.watchers.get(key);
    if (set === undefined) return;
    const targets = [...set];
    queueMicrotask(() => {
      for (const bus of targets) bus.deliver(key, delivery);
    });
  }
}

export class LocalBus implements RelayBus {
  private handlers: BusHandlers | undefined;
  private readonly watched = new Set<string>();
  private closed = false;

  constructor(private readonly hub: LocalBusHub = new LocalBusHub()) {}

  async start(handlers: BusHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async watch(key: string): Promise<boolean> {
    if (this.closed) return false;
    this.watched.add(key);
    this.hub.subscribe(key, this);
    return true;
  }

  unwatch(key: string): void {
    this.watched.delete(key);
    this.hub.unsubscribe(key, this);
  }

  async ringDoorbell(key: string): Promise<boolean> {
    if (this.closed) return false;
    this.hub.publish(key, { kind: 'doorbell' });
    return true;
  }

  async announceClaim(key: string, origin: ClaimOrigin): Promise<boolean> {
    if (this.closed) return false;
    this.hub.publish(key, { kind: 'claim', origin });
    return true;
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  status(): BusStatus {
    return { kind: 'local', up: !this.closed, lossy: false };
  }

  /** @internal called by the hub */
  deliver(key: string, delivery: Delivery): void {
    if (this.closed || !this.watched.has(key) || this.handlers === undefined) return;
    if (delivery.kind === 'doorbell') this.handlers.onDoorbell(key);
    else this.handlers.onClaim(key, delivery.origin);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const key of this.watched) this.hub.unsubscribe(key, this);
    this.watched.clear();
  }
}
