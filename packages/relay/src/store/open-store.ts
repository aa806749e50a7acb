/**
 * Chooses the store from the operator's `--store` value: a PostgreSQL URL (or a comma-separated
 * list of them, one per shard; see STORE-POSTGRES.md), otherwise the embedded SQLite database in
 * `dataDir`. The PostgreSQL store migrates every shard at open under an advisory lock, so nodes
 * that start together wait for each other instead of racing.
 */
import { RelayServerError } from '../errors.js';
import type { RelayLogger } from '../logger.js';
import { openSqliteStore } from './sqlite-store.js';
import { openWorkerSqliteStore } from './sqlite-worker-store.js';
import type { RelayStore } from './types.js';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url.trim());
}

export interface OpenStoreOptions {
  readonly storeUrl?: string;
  readonly dataDir?: string;
  readonly durability?: 'full' | 'normal';
  /** SQLite only: run the store on a worker thread (sqlite-worker-store.ts). */
  readonly storeThread?: boolean;
  readonly logger: RelayLogger;
}

export async function openStore(options: OpenStoreOptions): Promise<RelayStore> {
  const url = options.storeUrl;
  if (url === undefined || url === '' || url === 'sqlite') {
    const sqlite = { dataDir: options.dataDir, durability: options.durability };
    return options.storeThread === true ? openWorkerSqliteStore(sqlite) : openSqliteStore(sqlite);
  }
  if (options.storeThread === true) throw new RelayServerError('BAD_OPTION', '--store-thread applies to the SQLite store only');
  if (!url.split(',').every(isPostgresUrl)) {
    throw new RelayServerError('BAD_OPTION', '--store must be postgres://... (comma-separated for shards) or sqlite');
  }
  // Loaded only when asked for, so a single SQLite node never loads the driver.
  const { openPostgresStore } = await import('./postgres-store.js');
  return openPostgresStore({
    url,
    // A restarting server drops idle pooled connections; they are replaced on the next call.
    onBackgroundError: () => options.logger.warn('store_connection_lost', { kind: 'postgres' }),
  });
}
