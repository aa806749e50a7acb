/** Sizes of a relay load run: the full run (~15-20 min) and --quick (~2-3 min). */

export interface LoadOptions {
  readonly quick: boolean;
  /** Systems to run, in order (a b c d). */
  readonly systems: readonly string[];
  /** Driver processes that carry the message workloads (the machine has 2 cores). */
  readonly trafficDrivers: number;
  /** Online devices for the 1:1 workload. */
  readonly onlineDevices: number;
  readonly stepSeconds: number;
  readonly stepDrainMs: number;
  readonly startRate: number;
  readonly rateFactor: number;
  readonly maxSteps: number;
  /** Length of the latency step at half of saturation. */
  readonly halfSeconds: number;
  /** Store-and-forward: offline devices and messages sent to them, at this open-loop rate. */
  readonly offlineDevices: number;
  readonly offlineMessages: number;
  readonly storeRate: number;
  /** Idle authenticated connections held by (a), (c), (d) (one server process each). */
  readonly idleConnections: number;
  /** (b): nodes for the message workloads, nodes and connections for the idle ceiling. */
  readonly clusterNodes: number;
  readonly clusterIdleNodes: number;
  readonly clusterIdleConnections: number;
  /** Connections per driver process (under the ~20k open-files limit). */
  readonly connectionsPerDriver: number;
  /** Only the idle-connection phase (--idle-only). */
  readonly idleOnly: boolean;
}

export const FULL: LoadOptions = {
  quick: false,
  systems: ['a', 'b', 'c', 'd'],
  trafficDrivers: 2,
  onlineDevices: 1000,
  stepSeconds: 5,
  stepDrainMs: 5000,
  startRate: 1000,
  rateFactor: 1.5,
  maxSteps: 14,
  halfSeconds: 8,
  offlineDevices: 200,
  offlineMessages: 20_000,
  storeRate: 5000,
  idleConnections: 15_000,
  clusterNodes: 3,
  clusterIdleNodes: 6,
  clusterIdleConnections: 100_000,
  connectionsPerDriver: 17_000,
  idleOnly: false,
};

export const QUICK: LoadOptions = {
  ...FULL,
  quick: true,
  onlineDevices: 300,
  stepSeconds: 2,
  stepDrainMs: 2000,
  startRate: 1000,
  rateFactor: 2,
  maxSteps: 7,
  halfSeconds: 3,
  offlineDevices: 60,
  offlineMessages: 3000,
  storeRate: 3000,
  idleConnections: 2000,
  clusterNodes: 2,
  clusterIdleNodes: 2,
  clusterIdleConnections: 2000,
};
