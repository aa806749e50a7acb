/**
 * Starts the Pigeon core in the browser: IndexedDB store, WebCrypto (noble fallback), the
 * browser WebSocket behind the persistence barrier, and the SDK client over them.
 */
import { PigeonClient } from '@pigeon/client';
import { selectBrowserBackend } from '@pigeon/crypto';
import { loadConfig } from './config.js';
import { browserSockets } from './socket.dom.js';
import { IdbGroupStore } from './store/idb-group-store.js';
import { openIdbStore } from './store/idb-store.js';
import type { IdbClientStore } from './store/idb-store.js';

export const PROFILE_DB = 'pigeon-profile';
/** A browser tab is foreground UI: retry sooner than the SDK's 60 s ceiling. */
export const BROWSER_RECONNECT_MAX_MS = 8_000;

export interface Engine {
  readonly client: PigeonClient;
  readonly store: IdbClientStore;
  readonly relayUrl: string;
}

export async function startEngine(): Promise<Engine> {
  const [config, store, crypto] = await Promise.all([loadConfig(), openIdbStore({ name: PROFILE_DB }), selectBrowserBackend()]);
  const sockets = browserSockets({ barrier: () => store.whenPersisted(), broken: () => store.failed });
  window.addEventListener('offline', () => sockets.dropAll());
  const client = await PigeonClient.create({
    store,
    // Groups share the profile's mirror and transactions (a change commits with its session record).
    groupStore: new IdbGroupStore(store),
    crypto,
    socketFactory: sockets.factory,
    connection: { reconnectMaxMs: BROWSER_RECONNECT_MAX_MS },
  });
  return { client, store, relayUrl: config.relayUrl };
}
