import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createRelay } from '@pigeon/relay';
import type { Relay } from '@pigeon/relay';
import { defaultBackend } from '@pigeon/crypto';
import { createDeviceKeys, decodeAccountKeys, encodeDeviceKeys } from '@pigeon/protocol';
import { PigeonClient, openSqliteStore } from '../src/index.node.js';
import type { ClientOptions, ConnectionTuning } from '../src/index.node.js';

/** Fast reconnects so tests that restart the relay do not wait for production backoff. */
export const TEST_TUNING: ConnectionTuning = { reconnectBaseMs: 50, reconnectMaxMs: 400, requestTimeoutMs: 5_000 };

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `pigeon-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestRelay {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
  /** Starts a fresh relay process-state on the same port and data directory. */
  restart(): Promise<void>;
}

export async function startRelay(dataDir: string, port = 0): Promise<TestRelay> {
  let relay: Relay = createRelay({ port, dataDir, durability: 'normal' });
  const address = await relay.start();
  let running = true;
  return {
    url: address.url,
    port: address.port,
    dataDir,
    async stop() {
      if (!running) return;
      running = false;
      await relay.stop();
    },
    async restart() {
      if (running) await relay.stop();
      relay = createRelay({ port: address.port, dataDir, durability: 'normal' });
      await relay.start();
      running = true;
    },
  };
}

/**
 * One relay for the whole test file, in `root`/relay: started before its tests, stopped (and `root`
 * removed) after them. The returned relay reads through to the running one, so it can be used
 * from module-level code that runs inside the tests.
 */
export function relayForFile(root: { path: string; remove: () => void }): TestRelay {
  let started: TestRelay | undefined;
  before(async () => {
    started = await startRelay(join(root.path, 'relay'));
  });
  after(async () => {
    await started?.stop();
    root.remove();
  });
  const running = (): TestRelay => {
    if (!started) throw new Error('the relay is used before the tests started');
    return started;
  };
  return {
    get url() {
      return running().url;
    },
    get port() {
      return running().port;
    },
    get dataDir() {
      return running().dataDir;
    },
    stop: () => running().stop(),
    restart: () => running().restart(),
  };
}

export async function openClient(home: string, extra: Partial<ClientOptions> = {}): Promise<PigeonClient> {
  return PigeonClient.open({ home, connection: TEST_TUNING, connectTimeoutMs: 5_000, ...extra });
}

/** Resolves with the first event value that satisfies `match`; rejects after timeoutMs. */
export function nextEvent<T>(
  subscribe: (fn: (value: T) => void) => () => void,
  match: (value: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = subscribe((value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for an event'));
    }, timeoutMs);
  });
}

export interface ClientPair {
  readonly alice: PigeonClient;
  readonly bob: PigeonClient;
  /** Bob as Alice's contact id, and Alice as Bob's. */
  readonly bobId: string;
  readonly aliceId: string;
  readonly aliceHome: string;
  readonly bobHome: string;
}

/** Two initialised, connected clients that are each other's contacts. */
export async function connectedPair(relayUrl: string, homes: { alice: string; bob: string }, alice?: PigeonClient): Promise<ClientPair> {
  const a = alice ?? (await openClient(homes.alice));
  const b = await openClient(homes.bob);
  await a.init({ relayUrl, displayName: 'Alice' });
  await b.init({ relayUrl, displayName: 'Bob' });
  await a.connect();
  await b.connect();
  const { link } = await a.createInvite();
  const contact = nextEvent<{ id: string }>((fn) => a.on('contact', fn));
  const aliceAtBob = await b.acceptInvite(link);
  await b.flush();
  const bobAtAlice = await contact;
  // Alice's account token for Bob (he came in through the invite's own token) is on its way.
  await a.flush();
  return { alice: a, bob: b, bobId: bobAtAlice.id, aliceId: aliceAtBob.id, aliceHome: homes.alice, bobHome: homes.bob };
}

/**
 * A second device of the same account: a new device key pair certified by the profile's account
 * key, with the profile's contacts copied (no sessions: it starts them from fresh bundles). It is
 * not registered at the relay, so it can send (sealed, anonymous) but receives nothing; that is
 * all a key-change test needs.
 */
export async function newDeviceOf(home: string, newHome: string): Promise<PigeonClient> {
  const src = openSqliteStore(join(home, 'pigeon.db'));
  const identity = src.getIdentity()!;
  const contacts = src.listContacts();
  src.close();
  const device = await createDeviceKeys(defaultBackend(), decodeAccountKeys(identity.accountKeys), Date.now());
  mkdirSync(newHome, { recursive: true, mode: 0o700 });
  const dst = openSqliteStore(join(newHome, 'pigeon.db'));
  dst.transaction(() => {
    dst.putIdentity({ ...identity, deviceKeys: encodeDeviceKeys(device) });
    for (const c of contacts) dst.putContact(c);
  });
  dst.close();
  return openClient(newHome);
}
