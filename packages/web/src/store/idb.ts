/**
 * Minimal promise helpers over the IndexedDB API (no library: the API surface we need is small).
 * Schema (version DB_VERSION):
 *   rows: out-of-line keys [table, key] -> PersistedEntry  (everything the ClientStore holds)
 *   meta: out-of-line string keys -> values (the non-extractable wrapping CryptoKey)
 */
export const DB_VERSION = 1;
export const ROWS = 'rows';
export const META = 'meta';

export function requestResult<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Resolves when the transaction has committed (durable as far as the browser promises), rejects on abort. */
export function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

export function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      // Numbered upgrades: version 1 creates both stores. A later version adds a step here.
      if (!db.objectStoreNames.contains(ROWS)) db.createObjectStore(ROWS);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('cannot open IndexedDB'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab holding an old version'));
  });
}
