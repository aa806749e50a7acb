/**
 * The device directory of a node in a cluster (docs/operations.md "Cluster"): which device is
 * connected here, how "new mail" reaches the node holding a device's socket, and how a device
 * keeps one connection across nodes.
 *
 * - notify: a device connected here is woken directly; otherwise a doorbell goes on the bus,
 *   one per device per loop turn however many messages that turn committed for it.
 * - claim: the node subscribes to the device's channel, then announces the connection. Every
 *   subscriber sees a channel's messages in one order, so "the older connection" is well defined:
 *   a node closes its connection (REPLACED) when another node's claim arrives *after* its own
 *   claim's echo. A claim that arrives before our echo was published before ours: the other node
 *   will see ours after its own and close its connection. Without a bus (claim not published)
 *   a connection counts as older than any claim seen later.
 * - sweep: every connected device's mailbox is re-read now and then (backing off while nothing
 *   turns up and the bus is up; at the base interval while the bus is down), after the bus
 *   comes back, and soon after a store failure interrupted a delivery. A lost doorbell therefore
 *   delays a message by at most one sweep interval and never loses it.
 */
import type { DeviceDirectory, OnlineConnection, PushedMessage } from '../context.js';
import type { MailboxProbe } from '../store/types.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { BusHandlers, ClaimOrigin, RelayBus } from './types.js';

export const DEFAULT_BUS_SWEEP_MS = 2000;
export const DEFAULT_BUS_SWEEP_MAX_MS = 60_000;
/** Mailbox re-reads started per sweeper tick at most, so a bus reconnection does not stampede the store. */
export const MAX_SWEEPS_PER_TICK = 2000;

export interface SweepSchedule {
  /** First re-read after a connection, after a miss, and the fixed interval while the bus is down. */
  readonly baseMs: number;
  /** Longest interval between re-reads of an idle mailbox while the bus is up. */
  readonly maxMs: number;
}

interface Entry {
  readonly conn: OnlineConnection;
  readonly connectionId: number;
  /** Our claim's echo came back (or could not be published): a later foreign claim is newer. */
  claimSeen: boolean;
  nextSweepAt: number;
  intervalMs: number;
  sweeping: boolean;
  /** A delivery failed on a store error: re-read even when the bus is lossless. */
  retry: boolean;
}

/** A due device whose connection is caught up: the sweep asks the store about it before reading. */
interface DueProbe {
  readonly key: string;
  readonly entry: Entry;
  readonly probe: MailboxProbe;
}

export class ClusterDirectory implements DeviceDirectory, BusHandlers {
  private readonly entries = new Map<string, Entry>();
  /** Devices elsewhere with new mail this loop turn, rung together in the next (see notify). */
  private bells = new Set<string>();
  private nextConnectionId = 1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: RelayBus,
    readonly nodeId: string,
    private readonly schedule: SweepSchedule,
    private readonly metrics: RelayMetrics,
    private readonly monotonic: () => number,
    /** The store's batch question "which of these mailboxes have mail after their cursor" (RelayStore.mailboxesWithMail). */
    private readonly probeMailboxes?: (probes: readonly MailboxProbe[]) => Promise<boolean[]>,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  deviceKeys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Starts the sweeper (the bus is started by the relay). */
  start(): void {
    const tick = Math.max(20, Math.min(500, Math.floor(this.schedule.baseMs / 2)));
    this.timer = setInterval(() => this.sweepDue(), tick);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // ---- DeviceDirectory ---------------------------------------------------------------------

  claim(key: string, conn: OnlineConnection): OnlineConnection | undefined {
    const previous = this.entries.get(key);
    const entry: Entry = {
      conn,
      connectionId: this.nextConnectionId++,
      claimSeen: false,
      nextSweepAt: this.monotonic() + this.schedule.baseMs,
      intervalMs: this.schedule.baseMs,
      sweeping: false,
      retry: false,
    };
    this.entries.set(key, entry);
    void this.watchAndAnnounce(key, entry);
    return previous !== undefined && previous.conn !== conn ? previous.conn : undefined;
  }

  release(key: string, conn: OnlineConnection): void {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.conn !== conn) return;
    this.entries.delete(key);
    this.bus.unwatch(key);
  }

  notify(key: string, message?: PushedMessage): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.conn.wake(message);
      return;
    }
    // One doorbell per device per loop turn: a batch commit stores many messages for one device,
    // and a doorbell only says "look again" (the receiving node reads everything new at once).
    if (this.bells.has(key)) return;
    this.bells.add(key);
    if (this.bells.size === 1) setImmediate(() => this.ringBells());
  }

  private ringBells(): void {
    const keys = this.bells;
    this.bells = new Set();
    for (const key of keys) {
      void this.bus.ringDoorbell(key).then((ok) => (ok ? this.metrics.busPublishes : this.metrics.busPublishFailures).inc({ kind: 'doorbell' }));
    }
  }

  deliveryFailed(key: string, conn: OnlineConnection): void {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.conn !== conn) return;
    entry.retry = true;
    entry.intervalMs = this.schedule.baseMs;
    entry.nextSweepAt = Math.min(entry.nextSweepAt, this.monotonic() + this.schedule.baseMs);
  }

  private async watchAndAnnounce(key: string, entry: Entry): Promise<void> {
    await this.bus.watch(key);
    if (this.entries.get(key) !== entry) return;
    const origin: ClaimOrigin = { nodeId: this.nodeId, connectionId: entry.connectionId };
    const published = await this.bus.announceClaim(key, origin);
    (published ? this.metrics.busPublishes : this.metrics.busPublishFailures).inc({ kind: 'claim' });
    if (this.entries.get(key) !== entry) return;
    if (!published) entry.claimSeen = true;
    // Mail committed between the connection's first read and the subscription rang no bell here.
    entry.conn.wake();
  }

  // ---- BusHandlers -------------------------------------------------------------------------

  onDoorbell(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.metrics.doorbellsReceived.inc();
    entry.conn.wake();
  }

  onClaim(key: string, origin: ClaimOrigin): void {
    this.metrics.claimsReceived.inc();
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (origin.nodeId === this.nodeId) {
      // Our own echo; an older connection of ours was already replaced locally.
      if (origin.connectionId === entry.connectionId) entry.claimSeen = true;
      return;
    }
    if (!entry.claimSeen) return; // theirs is older than ours: their node closes theirs
    this.entries.delete(key);
    this.bus.unwatch(key);
    this.metrics.replacedByOtherNode.inc();
    entry.conn.replace();
  }

  onUp(): void {
    const now = this.monotonic();
    for (const entry of this.entries.values()) {
      entry.nextSweepAt = now;
      entry.intervalMs = this.schedule.baseMs;
    }
  }

  onDown(): void {
    const now = this.monotonic();
    for (const entry of this.entries.values()) {
      entry.intervalMs = this.schedule.baseMs;
      entry.nextSweepAt = Math.min(entry.nextSweepAt, now + this.schedule.baseMs);
    }
  }

  // ---- sweeper -----------------------------------------------------------------------------

  private sweepDue(): void {
    const status = this.bus.status();
    const now = this.monotonic();
    let budget = MAX_SWEEPS_PER_TICK;
    const probed: DueProbe[] = [];
    for (const [key, entry] of this.entries) {
      if (budget === 0) break;
      if (entry.sweeping || entry.nextSweepAt > now) continue;
      if (!status.lossy && !entry.retry) {
        // A lossless bus misses nothing: only deliveries a store failure interrupted are retried.
        entry.nextSweepAt = now + this.schedule.maxMs;
        continue;
      }
      budget--;
      entry.sweeping = true;
      entry.retry = false;
      const probe = this.probeMailboxes !== undefined ? entry.conn.sweepProbe?.() : undefined;
      if (probe !== undefined) probed.push({ key, entry, probe });
      else this.read(key, entry);
    }
    if (probed.length > 0) this.probe(probed);
  }

  private read(key: string, entry: Entry): void {
    entry.conn.sweep().then(
      (delivered) => this.swept(key, entry, delivered),
      () => this.swept(key, entry, -1),
    );
  }

  /**
   * One store question for every caught-up connection due this tick; only the mailboxes with mail
   * after their cursor are read. An idle device then costs a share of one statement per sweep
   * instead of a read of its own (100k idle devices, one sweep a minute: ~1,700 reads/s before).
   */
  private probe(probed: readonly DueProbe[]): void {
    this.probeMailboxes!(probed.map((p) => p.probe)).then(
      (hasMail) => {
        probed.forEach((p, i) => {
          if (hasMail[i]) this.read(p.key, p.entry);
          else this.swept(p.key, p.entry, 0);
        });
      },
      () => {
        for (const p of probed) this.swept(p.key, p.entry, -1);
      },
    );
  }

  private swept(key: string, entry: Entry, delivered: number): void {
    entry.sweeping = false;
    this.metrics.sweeps.inc();
    if (delivered > 0) this.metrics.sweepDeliveries.inc(undefined, delivered);
    if (this.entries.get(key) !== entry) return;
    const busUp = this.bus.status().up;
    if (delivered !== 0 || !busUp) entry.intervalMs = this.schedule.baseMs;
    else entry.intervalMs = Math.min(entry.intervalMs * 2, this.schedule.maxMs);
    if (delivered < 0) entry.retry = true;
    entry.nextSweepAt = this.monotonic() + entry.intervalMs;
  }
}

/** A node id for claims: random unless the operator names the node. */
export function isValidNodeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}
