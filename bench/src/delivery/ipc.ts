/** Messages between the delivery benchmark's coordinator and its child processes (Node IPC). */
import type { StepCounts } from '../common/load-step.js';

export interface DirectoryEntry {
  /** Hex device id (16 bytes). */
  readonly deviceId: string;
  /** Hex delivery token registered for the device's account. */
  readonly token: string;
  readonly generator: number;
}

// ---- coordinator -> relay child
export type ToRelay = { readonly type: 'start'; readonly dataDir: string; readonly durability: 'full' | 'normal' } | { readonly type: 'stats' } | { readonly type: 'stop' };
// ---- relay child -> coordinator
export type FromRelay =
  | { readonly type: 'listening'; readonly url: string; readonly notes: readonly string[] }
  | { readonly type: 'stats'; readonly cpuUserMs: number; readonly cpuSystemMs: number; readonly rssBytes: number }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'stopped' };

// ---- coordinator -> load generator
export type ToGenerator =
  | { readonly type: 'register'; readonly url: string; readonly generator: number; readonly devices: number }
  | { readonly type: 'directory'; readonly entries: readonly DirectoryEntry[] }
  | { readonly type: 'step'; readonly step: number; readonly ratePerSecond: number; readonly seconds: number; readonly drainMs: number }
  | { readonly type: 'stop' };

export interface StepReport extends Readonly<StepCounts> {
  readonly step: number;
  /** Relay `ok` replies to acks. */
  readonly ackOk: number;
  /** Latency samples in ms (send timestamp embedded in the envelope). */
  readonly receiptMs: readonly number[];
  readonly ackMs: readonly number[];
  readonly sendOkMs: readonly number[];
  /** CPU time of this generator during the sending window. */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
}

// ---- load generator -> coordinator
export type FromGenerator =
  | { readonly type: 'registered'; readonly entries: readonly DirectoryEntry[]; readonly ms: number }
  | { readonly type: 'ready' }
  | { readonly type: 'step'; readonly report: StepReport }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'stopped' };
