/**
 * The relay's metrics (docs/operations.md "Metrics"). Counters are bumped by the code that does
 * the work; gauges are read from the relay when scraped. No label ever carries a device id, an
 * address or anything else that identifies a person.
 */
import { CollectedCounter, Counter, Gauge, Histogram, Registry } from './registry.js';
import type { StoreBatchStats } from '../store/types.js';

/** Seconds; store calls range from sub-millisecond (SQLite) to seconds (a database failing over). */
export const STORE_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What the gauges read from the running relay. */
export interface RelayGaugeSources {
  connections(): number;
  authenticatedDevices(): number;
  deliveriesInFlight(): number;
  busUp(): number;
  /** Last queue-depth sample: messages waiting in the mailboxes of sampled online devices, and how many were sampled. */
  queueDepthSample(): { readonly messages: number; readonly devices: number; readonly maxMessages: number };
  /** Group-commit batches of the store, when it batches (PostgreSQL). */
  storeBatches(): StoreBatchStats | undefined;
}

export class RelayMetrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly acks: Counter;
  readonly storeLatency: Histogram;
  readonly storeErrors: Counter;
  readonly busPublishes: Counter;
  readonly busPublishFailures: Counter;
  readonly doorbellsReceived: Counter;
  readonly claimsReceived: Counter;
  readonly replacedByOtherNode: Counter;
  readonly sweeps: Counter;
  readonly sweepDeliveries: Counter;

  constructor(sources: RelayGaugeSources) {
    const r = this.registry;
    r.register(new Gauge('pigeon_relay_connections', 'Open WebSocket connections on this node.', () => sources.connections()));
    r.register(new Gauge('pigeon_relay_authenticated_devices', 'Devices authenticated on this node.', () => sources.authenticatedDevices()));
    r.register(new Gauge('pigeon_relay_deliveries_in_flight', 'Deliveries sent and not yet acknowledged, all connections of this node.', () => sources.deliveriesInFlight()));
    this.messagesIn = r.register(new Counter('pigeon_relay_messages_in_total', 'send requests answered, by result (stored, duplicate, full, busy, error).'));
    this.messagesOut = r.register(new Counter('pigeon_relay_messages_out_total', 'deliver frames sent to devices.'));
    this.acks = r.register(new Counter('pigeon_relay_acks_total', 'Message ids acknowledged by devices (committed acks).'));
    this.storeLatency = r.register(new Histogram('pigeon_relay_store_operation_seconds', 'Latency of store operations, by operation.', STORE_LATENCY_BUCKETS));
    this.storeErrors = r.register(new Counter('pigeon_relay_store_errors_total', 'Store operations that failed (database unreachable, timeout), by operation.'));
    r.register(new Gauge('pigeon_relay_bus_up', '1 when the bus is connected and every watched device is subscribed.', () => sources.busUp()));
    this.busPublishes = r.register(new Counter('pigeon_relay_bus_publishes_total', 'Bus messages published, by kind (doorbell, claim).'));
    this.busPublishFailures = r.register(new Counter('pigeon_relay_bus_publish_failures_total', 'Bus messages that could not be published (bus down), by kind.'));
    this.doorbellsReceived = r.register(new Counter('pigeon_relay_bus_doorbells_received_total', 'Doorbells received for devices connected here.'));
    this.claimsReceived = r.register(new Counter('pigeon_relay_bus_claims_received_total', 'Connection claims received (including this node\'s own echoes).'));
    this.replacedByOtherNode = r.register(new Counter('pigeon_relay_replaced_by_other_node_total', 'Connections closed with REPLACED because the device connected on another node.'));
    this.sweeps = r.register(new Counter('pigeon_relay_sweeps_total', 'Mailbox re-reads not triggered by a doorbell (periodic sweep, bus reconnection).'));
    this.sweepDeliveries = r.register(new Counter('pigeon_relay_sweep_deliveries_total', 'Messages delivered by a sweep (each one a doorbell that was missed or late).'));
    const batches = (pick: (s: StoreBatchStats[keyof StoreBatchStats]) => number) => () => {
      const stats = sources.storeBatches();
      return stats === undefined ? [] : (['writes', 'reads'] as const).map((kind) => ({ labels: { kind }, value: pick(stats[kind]) }));
    };
    r.register(new CollectedCounter('pigeon_relay_store_batches_total', 'Store batches sent (group commit), by kind (writes, reads).', batches((s) => s.batches)));
    r.register(new CollectedCounter('pigeon_relay_store_batch_items_total', 'Operations carried by those batches, by kind (items / batches = mean batch size).', batches((s) => s.items)));
    r.register(new CollectedCounter('pigeon_relay_store_failed_batches_total', 'Batches that failed as a whole (their operations were then retried one by one), by kind.', batches((s) => s.failedBatches)));
    r.register(new Gauge('pigeon_relay_queue_depth_sampled_messages', 'Messages waiting in the mailboxes of the sampled online devices (last sample).', () => sources.queueDepthSample().messages));
    r.register(new Gauge('pigeon_relay_queue_depth_sampled_max_messages', 'Largest mailbox among the sampled online devices (last sample).', () => sources.queueDepthSample().maxMessages));
    r.register(new Gauge('pigeon_relay_queue_depth_sampled_devices', 'How many online devices the last queue-depth sample covered.', () => sources.queueDepthSample().devices));
  }

  render(): Promise<string> {
    return this.registry.render();
  }
}
