import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRelay } from '@pigeon/relay';
import type { Relay } from '@pigeon/relay';
import { PigeonClient } from '../src/index.node.js';
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
