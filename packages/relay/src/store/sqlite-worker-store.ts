/**
 * RelayStore that runs the SQLite store (sqlite-store.ts, unchanged) on a worker thread, so the
 * statements and the fsync inside COMMIT no longer block the relay's event loop (opt-in:
 * `storeThread` / `--store-thread`). The store calls of one event-loop turn leave in ONE
 * postMessage; the worker answers a batch with one message. Batches holding group-committed
 * writes are answered in the order they were sent, and inside the worker writes commit and
 * resolve in issue order, so enqueue promises still resolve in commit order
 * (`resolvesInCommitOrder`). A batch of reads only may be answered before an earlier batch's
 * writes; a read issued while a write is unresolved may miss it, exactly as with SqliteRelayStore.
 */
import { Worker } from 'node:worker_threads';
import { RELAY_SERVER_ERROR_CODES, RelayServerError, type RelayServerErrorCode } from '../errors.js';
import type { PutDeviceListResult, StoredDeviceList } from './linked-devices.js';
import type { SqliteStoreOptions } from './sqlite-store.js';
import { toWireError, type FromWorker, type StoreCall, type ToWorker, type WireError, type WorkerStoreMethod } from './sqlite-worker-protocol.js';
import type {
  EnqueueResult,
  MailboxLimits,
  MailboxProbe,
  NewMessage,
  PreKeyCounts,
  PreKeyUpload,
  RegisterDeviceResult,
  RelayStore,
  StoredDevice,
  StoredMessage,
  TakenBundle,
} from './types.js';

const WORKER_URL = new URL('./sqlite-worker.js', import.meta.url);
const SERVER_CODES = new Set<string>(RELAY_SERVER_ERROR_CODES);

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Structured clone copies the WHOLE ArrayBuffer behind a Uint8Array, and the relay's byte fields
 * are views (of a decoded frame's copy, or of Node's 8 KiB Buffer pool). Copying each view into
 * its own exact-size array first sends only its bytes.
 */
function compact(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : new Uint8Array(value);
  }
  if (Array.isArray(value)) return value.map(compact);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = compact(v);
    return out;
  }
  return value;
}

/** Rebuilds a worker-side error: RelayServerError with its code, otherwise an Error keeping `code`. */
function fromWireError(e: WireError): Error {
  if (e.code !== undefined && SERVER_CODES.has(e.code)) return new RelayServerError(e.code as RelayServerErrorCode, e.message);
  const error = new Error(e.message);
  if (e.code !== undefined) Object.assign(error, { code: e.code });
  return error;
}

/** Starts the worker and opens the database there; rejects with the open error (e.g. SCHEMA_TOO_NEW). */
export function openWorkerSqliteStore(options: SqliteStoreOptions = {}): Promise<WorkerSqliteStore> {
  const worker = new Worker(WORKER_URL, { workerData: { ...options } });
  return new Promise((resolve, reject) => {
    const detach = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const fail = (error: Error) => {
      detach();
      void worker.terminate();
      reject(error);
    };
    const onMessage = (message: FromWorker) => {
      if (message.type === 'ready') {
        detach();
        resolve(new WorkerSqliteStore(worker));
      } else if (message.type === 'open_failed') {
        fail(fromWireError(message.error));
      }
    };
    // An error thrown in the worker arrives as a structured clone: keep its code, typed again.
    const onError = (error: Error) => fail(fromWireError(toWireError(error)));
    // Messages posted before the thread ended are delivered before 'exit', so this is a silent death.
    const onExit = (code: number) => fail(new RelayServerError('STORE_FAILED', `store worker exited (code ${code}) before opening`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

export class WorkerSqliteStore implements RelayStore {
  /** The worker answers write batches in order and its store commits in issue order (file comment). */
  readonly resolvesInCommitOrder = true;
  private nextId = 1;
  private batch: StoreCall[] = [];
  private flushScheduled = false;
  private readonly waiting = new Map<number, Waiter>();
  private closed = false;
  private closing: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;

  constructor(private readonly worker: Worker) {
    // Unreferenced while idle so an open store alone does not keep the process alive, like SQLite.
    worker.unref();
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (error) => this.failAll(new RelayServerError('STORE_FAILED', `store worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', () => {
      this.closed = true;
      this.failAll(new RelayServerError('STORE_FAILED', 'store worker exited'));
      this.onClosed?.();
    });
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'closed') {
      this.onClosed?.();
      return;
    }
    if (message.type !== 'results') return;
    for (const r of message.results) {
      const waiter = this.waiting.get(r.id);
      if (waiter === undefined) continue;
      this.waiting.delete(r.id);
      if (r.ok) waiter.resolve(r.value);
      else waiter.reject(fromWireError(r.error));
    }
    if (this.waiting.size === 0 && this.closing === undefined) this.worker.unref();
  }

  private failAll(error: Error): void {
    this.batch = [];
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  private call<T>(method: WorkerStoreMethod, args: readonly unknown[]): Promise<T> {
    if (this.closed || this.closing !== undefined) return Promise.reject(new RelayServerError('STORE_CLOSED', 'store is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.batch.push({ id, method, args: args.map(compact) });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends the calls of this turn as one message. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0 || this.closed) return;
    const calls = this.batch;
    this.batch = [];
    this.post({ type: 'calls', calls });
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  registerDevice(device: StoredDevice, maxDevicesPerAccount: number): Promise<RegisterDeviceResult> {
    return this.call('registerDevice', [device, maxDevicesPerAccount]);
  }
  getDevice(deviceId: Uint8Array): Promise<StoredDevice | undefined> {
    return this.call('getDevice', [deviceId]);
  }
  accountExists(accountId: Uint8Array): Promise<boolean> {
    return this.call('accountExists', [accountId]);
  }
  putPreKeys(deviceId: Uint8Array, upload: PreKeyUpload, maxOneTimePerKind: number): Promise<'ok' | 'limit'> {
    return this.call('putPreKeys', [deviceId, upload, maxOneTimePerKind]);
  }
  preKeyCounts(deviceId: Uint8Array): Promise<PreKeyCounts> {
    return this.call('preKeyCounts', [deviceId]);
  }
  takePreKeyBundles(accountId: Uint8Array): Promise<TakenBundle[] | undefined> {
    return this.call('takePreKeyBundles', [accountId]);
  }
  setDeliveryTokens(
    accountId: Uint8Array,
    addHashes: readonly Uint8Array[],
    removeHashes: readonly Uint8Array[],
    maxPerAccount: number,
  ): Promise<'ok' | 'limit'> {
    return this.call('setDeliveryTokens', [accountId, addHashes, removeHashes, maxPerAccount]);
  }
  hasDeliveryToken(accountId: Uint8Array, tokenHash: Uint8Array): Promise<boolean> {
    return this.call('hasDeliveryToken', [accountId, tokenHash]);
  }
  enqueue(message: NewMessage, limits: MailboxLimits): Promise<EnqueueResult> {
    return this.call('enqueue', [message, limits]);
  }
  pending(deviceId: Uint8Array, afterSeq: number, now: number, limit: number): Promise<StoredMessage[]> {
    return this.call('pending', [deviceId, afterSeq, now, limit]);
  }
  mailboxesWithMail(probes: readonly MailboxProbe[], now: number): Promise<boolean[]> {
    return this.call('mailboxesWithMail', [probes, now]);
  }
  ack(deviceId: Uint8Array, messageIds: readonly Uint8Array[]): Promise<number> {
    return this.call('ack', [deviceId, messageIds]);
  }
  sweepExpired(now: number): Promise<number> {
    return this.call('sweepExpired', [now]);
  }
  mailboxUsage(deviceId: Uint8Array): Promise<{ readonly messages: number; readonly bytes: number }> {
    return this.call('mailboxUsage', [deviceId]);
  }
  getDeviceList(accountId: Uint8Array): Promise<StoredDeviceList | undefined> {
    return this.call('getDeviceList', [accountId]);
  }
  putDeviceList(accountId: Uint8Array, list: StoredDeviceList, listedDeviceIds: readonly Uint8Array[]): Promise<PutDeviceListResult> {
    return this.call('putDeviceList', [accountId, list, listedDeviceIds]);
  }
  openProvisioning(provisioningId: Uint8Array, now: number, expiresAt: number): Promise<'opened' | 'exists'> {
    return this.call('openProvisioning', [provisioningId, now, expiresAt]);
  }
  putProvisioningMessage(provisioningId: Uint8Array, envelope: Uint8Array, now: number): Promise<'stored' | 'unknown' | 'full'> {
    return this.call('putProvisioningMessage', [provisioningId, envelope, now]);
  }
  takeProvisioningMessage(provisioningId: Uint8Array, now: number): Promise<Uint8Array | undefined> {
    return this.call('takeProvisioningMessage', [provisioningId, now]);
  }

  /** Sends the calls still queued, lets the worker answer them and flush its commit, then ends it. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closing = new Promise<void>((resolve) => {
      this.onClosed = resolve;
    }).then(async () => {
      this.closed = true;
      await this.worker.terminate();
    });
    this.worker.ref();
    this.post({ type: 'close' });
    return this.closing;
  }
}
