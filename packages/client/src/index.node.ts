/**
 * Node entry of @pigeon/client: everything from index.ts, plus PigeonClient.open(), which
 * keeps the profile in `<home>/pigeon.db` (SQLite) and dials relays with `ws`.
 */
import { mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { PigeonClient as PigeonClientCore } from './client.js';
import { ClientError } from './errors.js';
import { openSqliteStore } from './store/sqlite-store.node.js';
import type { ConnectionTuning } from './transport/relay-connection.js';
import { nodeSocketFactory } from './transport/ws-socket.node.js';
import type { Logger } from './types.js';

export * from './index.js';
export { openSqliteStore, SqliteClientStore, migrate } from './store/sqlite-store.node.js';
export { nodeSocketFactory, WS_HANDSHAKE_TIMEOUT_MS } from './transport/ws-socket.node.js';

export const DATABASE_FILE = 'pigeon.db';

export interface ClientOptions {
  /** Profile directory; created with mode 0700. The database is home/pigeon.db (mode 0600). */
  readonly home: string;
  readonly crypto?: CryptoBackend;
  readonly now?: () => number;
  /** Receives event names and non-secret fields only. */
  readonly logger?: Logger;
  readonly connection?: ConnectionTuning;
  readonly connectTimeoutMs?: number;
}

export class PigeonClient extends PigeonClientCore {
  static async open(options: ClientOptions): Promise<PigeonClient> {
    if (!options.home) throw new ClientError('BAD_ARGUMENT', 'a profile directory is required');
    try {
      mkdirSync(options.home, { recursive: true, mode: 0o700 });
      chmodSync(options.home, 0o700);
    } catch (cause) {
      throw new ClientError('STORE_ERROR', `cannot create the profile directory ${options.home}`, { cause });
    }
    const store = openSqliteStore(join(options.home, DATABASE_FILE));
    const client = new PigeonClient({
      store,
      crypto: options.crypto ?? defaultBackend(),
      socketFactory: nodeSocketFactory,
      now: options.now,
      logger: options.logger,
      connection: options.connection,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    try {
      await client.load();
    } catch (err) {
      store.close();
      throw new ClientError('STORE_ERROR', 'the profile database is damaged', { cause: err });
    }
    return client;
  }
}
