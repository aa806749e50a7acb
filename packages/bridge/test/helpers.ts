/**
 * Lab scenario helpers: a real relay (port 0, temp data dir), real bridges, a lab censor on the
 * clients' wire, and real SDK clients whose SocketFactory is the route racer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRelay } from '@pigeon/relay';
import { defaultBackend } from '@pigeon/crypto';
import { PigeonClient, openSqliteStore } from '@pigeon/client';
import type { StoredMessage } from '@pigeon/client';
import { testCertificate } from '@pigeon/lab';
import { RouteRacer, RACER_CONNECTION_TUNING } from '@pigeon/transport';
import type { RacerOptions } from '@pigeon/transport';
import { certificateSha256, startBridge } from '../src/index.js';
import type { BridgeOptions, RunningBridge } from '../src/index.js';

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `pigeon-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface LabRelay {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startLabRelay(): Promise<LabRelay> {
  const dir = tempDir('relay');
  const relay = createRelay({ port: 0, dataDir: dir.path, durability: 'normal' });
  const address = await relay.start();
  return {
    url: address.url,
    port: address.port,
    async stop() {
      await relay.stop();
      dir.remove();
    },
  };
}

let cachedCert: { cert: string; key: string; sha256: Uint8Array } | undefined;
export function labCertificate(): { cert: string; key: string; sha256: Uint8Array } {
  if (cachedCert === undefined) {
    const c = testCertificate(['static.example', 'relay.example', 'localhost', '127.0.0.1']);
    cachedCert = { cert: c.cert, key: c.key, sha256: certificateSha256(c.cert) };
  }
  return cachedCert;
}

export async function startLabBridge(relayUrl: string, extra: Partial<BridgeOptions> = {}): Promise<RunningBridge> {
  return startBridge({
    relayUrl,
    certificate: labCertificate(),
    secret: defaultBackend().randomBytes(32),
    path: '/static/app',
    sni: 'static.example',
    pollHoldMs: 3_000,
    ...extra,
  });
}

/** SDK tuning for scenarios: the racer's keepalive, quick reconnects. */
export const SCENARIO_TUNING = { ...RACER_CONNECTION_TUNING, reconnectBaseMs: 200, reconnectMaxMs: 1_500, requestTimeoutMs: 8_000 };

export interface LabClient {
  readonly client: PigeonClient;
  readonly racer: RouteRacer;
  readonly received: StoredMessage[];
  close(): Promise<void>;
}

export async function labClient(name: string, racerOptions: RacerOptions): Promise<LabClient> {
  const dir = tempDir(`client-${name}`);
  const racer = new RouteRacer({ staggerMs: 300, attemptTimeoutMs: 8_000, ...racerOptions });
  const client = await PigeonClient.create({
    store: openSqliteStore(join(dir.path, 'pigeon.db')),
    crypto: defaultBackend(),
    socketFactory: racer.factory,
    connection: SCENARIO_TUNING,
    connectTimeoutMs: 20_000,
  });
  const received: StoredMessage[] = [];
  client.on('message', (m) => {
    if (m.direction === 'in') received.push(m);
  });
  return {
    client,
    racer,
    received,
    async close() {
      await client.close();
      dir.remove();
    },
  };
}

/** Initialises both clients on the relay and makes them contacts; returns bob's id at alice. */
export async function befriend(alice: LabClient, bob: LabClient, relayUrl: string): Promise<{ bobAtAlice: string; aliceAtBob: string }> {
  await alice.client.init({ relayUrl, displayName: 'Alice' });
  await bob.client.init({ relayUrl, displayName: 'Bob' });
  await alice.client.connect();
  await bob.client.connect();
  const { link } = await alice.client.createInvite();
  const contactSeen = new Promise<string>((resolve) => {
    const off = alice.client.on('contact', (c) => {
      off();
      resolve(c.id);
    });
  });
  const aliceAtBob = await bob.client.acceptInvite(link);
  await bob.client.flush(20_000);
  const bobAtAlice = await contactSeen;
  return { bobAtAlice, aliceAtBob: aliceAtBob.id };
}

/** Waits until `receiver` holds at least `count` incoming messages. */
export async function waitForMessages(receiver: LabClient, count: number, timeoutMs = 45_000, explain: () => string = () => ''): Promise<void> {
  const started = Date.now();
  while (receiver.received.length < count) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`only ${receiver.received.length}/${count} messages arrived within ${timeoutMs} ms\n${explain()}`);
    }
    await new Promise<void>((resolve) => {
      const off = receiver.client.on('message', () => {
        off();
        clearTimeout(t);
        resolve();
      });
      const t = setTimeout(() => {
        off();
        resolve();
      }, 500);
    });
  }
}

/** Exactly once and in order: texts equal the expected list. */
export function texts(receiver: LabClient): string[] {
  return receiver.received.map((m) => m.text);
}
