/** Messages between the load coordinator (run-load.ts) and its driver processes (driver-child.ts). */
import type { StepCounts } from '../common/load-step.js';

/** How a driver reaches one server process of the system under test. */
export type ServerTarget =
  | { readonly kind: 'pigeon'; readonly url: string }
  | { readonly kind: 'bare'; readonly url: string }
  | { readonly kind: 'xmpp'; readonly host: string; readonly port: number };

/** A reachable endpoint: hex device id + hex delivery token (Pigeon), a username (XMPP). */
export interface Entry {
  readonly address: string;
  readonly token: string;
}

export interface SetupRequest {
  readonly servers: readonly ServerTarget[];
  readonly count: number;
  /** Global index of this driver's first endpoint (spreads servers and source addresses). */
  readonly firstIndex: number;
  /** Name prefix for XMPP users (unique per phase). */
  readonly prefix: string;
}

export type ToDriver =
  | ({ readonly type: 'online' } & SetupRequest)
  | ({ readonly type: 'offline' } & SetupRequest)
  | ({ readonly type: 'idle' } & SetupRequest)
  | { readonly type: 'directory'; readonly entries: readonly Entry[] }
  | { readonly type: 'step'; readonly step: number; readonly ratePerSecond: number; readonly seconds: number; readonly drainMs: number }
  | { readonly type: 'store'; readonly step: number; readonly targets: readonly Entry[]; readonly count: number; readonly ratePerSecond: number; readonly timeoutMs: number }
  | { readonly type: 'drain'; readonly step: number; readonly expected: number; readonly timeoutMs: number; readonly quietMs: number }
  | { readonly type: 'close' }
  | { readonly type: 'stop' };

export interface StepReport extends Readonly<StepCounts> {
  readonly receiptMs: readonly number[];
  readonly cpuMs: number;
}

export interface StoreReport {
  readonly sent: number;
  readonly sendOk: number;
  readonly sendErrors: Record<string, number>;
  readonly flushed: boolean;
  /** ms from the first send to the last acknowledgement. */
  readonly ms: number;
}

export interface DrainReport {
  readonly delivered: number;
  readonly duplicates: number;
  readonly connectStartAt: number;
  readonly connectedAt: number;
  readonly lastDeliveryAt: number;
  readonly failed: number;
  readonly firstError: string;
  readonly expected: number;
}

export type FromDriver =
  | { readonly type: 'setup'; readonly entries: readonly Entry[]; readonly connected: number; readonly failed: number; readonly retried: number; readonly firstError: string; readonly ms: number }
  | { readonly type: 'ready' }
  | { readonly type: 'step'; readonly report: StepReport }
  | { readonly type: 'store'; readonly report: StoreReport }
  | { readonly type: 'drain'; readonly report: DrainReport }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly reason: string };
