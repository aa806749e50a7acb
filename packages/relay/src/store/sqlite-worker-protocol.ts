/**
 * Messages between WorkerSqliteStore (the relay's thread) and sqlite-worker.ts (the store's
 * thread). One `calls` message carries every store call of one event-loop turn; one `results`
 * message answers a batch. Values cross by structured clone (Uint8Array/Buffer arrive as
 * Uint8Array); errors cross as { code, message } and are rebuilt as typed errors.
 */
import type { SqliteStoreOptions } from './sqlite-store.js';

/** The RelayStore methods the worker executes (close is its own message). */
export const WORKER_STORE_METHODS = [
  'registerDevice',
  'getDevice',
  'accountExists',
  'putPreKeys',
  'preKeyCounts',
  'takePreKeyBundles',
  'setDeliveryTokens',
  'hasDeliveryToken',
  'enqueue',
  'pending',
  'mailboxesWithMail',
  'ack',
  'sweepExpired',
  'mailboxUsage',
  'getDeviceList',
  'putDeviceList',
  'openProvisioning',
  'putProvisioningMessage',
  'takeProvisioningMessage',
] as const;
export type WorkerStoreMethod = (typeof WORKER_STORE_METHODS)[number];

/**
 * Methods that SqliteRelayStore queues for its group commit (they resolve after a later COMMIT).
 * A batch holding one of them is answered only after every earlier such batch, so write results
 * reach the relay in commit order; a batch of immediate calls only is answered as soon as it ran.
 */
export const GROUP_COMMITTED_METHODS: ReadonlySet<WorkerStoreMethod> = new Set(['enqueue', 'ack', 'putDeviceList']);

export interface StoreCall {
  readonly id: number;
  readonly method: WorkerStoreMethod;
  readonly args: readonly unknown[];
}

export interface WireError {
  readonly code: string | undefined;
  readonly message: string;
}

export type StoreResult =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

export type ToWorker = { readonly type: 'calls'; readonly calls: readonly StoreCall[] } | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'open_failed'; readonly error: WireError }
  | { readonly type: 'results'; readonly results: readonly StoreResult[] }
  | { readonly type: 'closed' };

export type WorkerStoreData = SqliteStoreOptions;

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : undefined, message: e.message };
  }
  return { code: undefined, message: String(e) };
}
