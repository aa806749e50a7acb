/**
 * Worker-thread entry of WorkerSqliteStore (sqlite-worker-store.ts): opens the ordinary
 * SqliteRelayStore here, so its statements and the fsync inside COMMIT block this thread instead
 * of the relay's event loop. Calls of one batch start in order; their group-committed writes
 * share the store's usual per-turn commit (batches that arrive during an fsync join the next one).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openSqliteStore, type SqliteRelayStore } from './sqlite-store.js';
import {
  GROUP_COMMITTED_METHODS,
  WORKER_STORE_METHODS,
  toWireError,
  type FromWorker,
  type StoreCall,
  type StoreResult,
  type ToWorker,
  type WorkerStoreData,
} from './sqlite-worker-protocol.js';

if (parentPort === null) throw new Error('sqlite-worker.js must run as a worker thread');
const port: MessagePort = parentPort;
const post = (message: FromWorker) => port.postMessage(message);
const KNOWN = new Set<string>(WORKER_STORE_METHODS);

/**
 * Opens the store, or reports why not and lets the thread end. The failure is not re-thrown: an
 * uncaught error would also reach the parent as a Worker 'error' event, which can arrive before the
 * open_failed message and carries only a structured clone (no longer a RelayServerError).
 */
function openOrReport(): SqliteRelayStore | undefined {
  try {
    const opened = openSqliteStore(workerData as WorkerStoreData);
    post({ type: 'ready' });
    return opened;
  } catch (e) {
    post({ type: 'open_failed', error: toWireError(e) });
    port.close();
    return undefined;
  }
}

const opened = openOrReport();
if (opened !== undefined) serve(opened);

function serve(store: SqliteRelayStore): void {
  /** Settles when the last batch holding a group-committed write has been answered (reply order = commit order). */
  let lastWriteReply: Promise<void> = Promise.resolve();
  /** Settles when every batch received so far has been answered (close waits for it). */
  let allReplies: Promise<void> = Promise.resolve();

  function start(call: StoreCall): Promise<unknown> {
    if (!KNOWN.has(call.method)) return Promise.reject(new Error(`unknown store method ${String(call.method)}`));
    const method = store[call.method] as (...args: unknown[]) => Promise<unknown>;
    try {
      return method.apply(store, [...call.args]);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  function runBatch(calls: readonly StoreCall[]): void {
    const settled = Promise.all(
      calls.map((call) =>
        start(call).then(
          (value): StoreResult => ({ id: call.id, ok: true, value }),
          (e: unknown): StoreResult => ({ id: call.id, ok: false, error: toWireError(e) }),
        ),
      ),
    );
    const hasWrite = calls.some((c) => GROUP_COMMITTED_METHODS.has(c.method));
    const after = hasWrite ? lastWriteReply : Promise.resolve();
    const replied = after.then(() => settled).then((results) => post({ type: 'results', results }));
    if (hasWrite) lastWriteReply = replied;
    allReplies = Promise.all([allReplies, replied]).then(() => undefined);
  }

  port.on('message', (message: ToWorker) => {
    if (message.type === 'calls') {
      runBatch(message.calls);
      return;
    }
    // close: answer everything already received, then flush and close the database.
    void allReplies
      .then(() => store.close())
      .then(() => post({ type: 'closed' }), () => post({ type: 'closed' }))
      .finally(() => port.close());
  });
}
