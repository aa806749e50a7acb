/**
 * The bus between relay nodes (docs/operations.md "Cluster"). It carries two kinds of small
 * messages on one channel per device, and never any message content:
 *
 * - a **doorbell**: "mail for device X", published after the store committed an enqueue. It has
 *   no payload; the node holding X's socket re-reads the store (pending after the connection's
 *   last delivered seq). The store is the queue, the bus only shortens the wait: a lost doorbell
 *   delays delivery until the next sweep, it never loses a message.
 * - a **claim**: "device X is now connected on node N as connection C". A node holding an older
 *   connection of X closes it with REPLACED, so a device has one live connection cluster-wide.
 *
 * Implementations: LocalBus (one process; lossless, synchronous) and RedisBus (sharded pub/sub,
 * SSUBSCRIBE/SPUBLISH; lossy while Redis is unreachable).
 */

/** Who announced a connection: the node's id and the connection's id on that node. */
export interface ClaimOrigin {
  readonly nodeId: string;
  readonly connectionId: number;
}

/** What the bus reports to its owner (the cluster directory). */
export interface BusHandlers {
  /** Mail was committed for a device this node watches. */
  onDoorbell(deviceKey: string): void;
  /** A connection of a device this node watches was announced (including this node's own). */
  onClaim(deviceKey: string, origin: ClaimOrigin): void;
  /**
   * The bus is (again) connected and every watched device is subscribed. Doorbells published
   * while it was down are lost: the owner re-reads every watched mailbox.
   */
  onUp(): void;
  /** The bus lost its connection; until onUp, only sweeps deliver mail from other nodes. */
  onDown(): void;
}

export interface BusStatus {
  readonly kind: 'local' | 'redis';
  readonly up: boolean;
  /** True when notifications can be lost (another process, a network): sweeps are needed. */
  readonly lossy: boolean;
}

export interface RelayBus {
  /** Connects (without failing when the server is unreachable: the bus reconnects by itself). */
  start(handlers: BusHandlers): Promise<void>;
  /**
   * Subscribes to the device's channel. Resolves true once the subscription is active, false when
   * the bus is down (it is subscribed again as soon as the bus returns; onUp then fires).
   */
  watch(deviceKey: string): Promise<boolean>;
  /** Stops watching the device (no more doorbells or claims for it). */
  unwatch(deviceKey: string): void;
  /** Publishes a doorbell; resolves false when it could not be published (nothing is retried). */
  ringDoorbell(deviceKey: string): Promise<boolean>;
  /** Announces a new connection of the device; false when it could not be published. */
  announceClaim(deviceKey: string, origin: ClaimOrigin): Promise<boolean>;
  /** Round trip to the bus server (for /healthz); false when it does not answer in time. */
  ping(timeoutMs: number): Promise<boolean>;
  status(): BusStatus;
  close(): Promise<void>;
}

/** Claim payload on the wire: `c:<nodeId>:<connectionId>`; a doorbell is the empty message. */
export function encodeClaim(origin: ClaimOrigin): string {
  return `c:${origin.nodeId}:${origin.connectionId}`;
}

/** undefined for anything that is not a well-formed claim (a doorbell, or noise). */
export function decodeClaim(message: string): ClaimOrigin | undefined {
  const match = /^c:([A-Za-z0-9_-]{1,64}):(\d{1,15})$/.exec(message);
  if (match === null) return undefined;
  return { nodeId: match[1]!, connectionId: Number(match[2]) };
}
