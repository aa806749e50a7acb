import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClientError, DATABASE_FILE, PigeonClient } from '@pigeon/client';
import type { Io } from './io.js';
import { openRoutedClient } from './route-setup.js';

/** --profile DIR, else $PIGEON_HOME, else ~/.pigeon. */
export function profileDir(flag: string | undefined, io: Io): string {
  if (flag) return resolve(flag);
  const env = io.env.PIGEON_HOME;
  if (env) return resolve(env);
  return join(homedir(), '.pigeon');
}

export async function openClient(home: string, connectTimeoutMs?: number): Promise<PigeonClient> {
  // Plain direct WebSocket unless the profile knows routes (bridges, proxies): then the racer.
  return openRoutedClient(home, connectTimeoutMs, debugLogger());
}

/** PIGEON_DEBUG=1 prints the SDK's (secret-free) log events on stderr. */
function debugLogger(): ((event: string, fields?: Record<string, unknown>) => void) | undefined {
  if (!process.env.PIGEON_DEBUG) return undefined;
  return (event, fields) => process.stderr.write(`debug: ${event} ${fields ? JSON.stringify(fields) : ''}\n`);
}

/** Opens the profile and insists it has been initialised. */
export async function openInitialized(home: string, connectTimeoutMs?: number): Promise<PigeonClient> {
  // Do not create a profile directory as a side effect of a typo in --profile.
  if (!existsSync(join(home, DATABASE_FILE))) throw notInitialized(home);
  const client = await openClient(home, connectTimeoutMs);
  if (!client.isInitialized()) {
    await client.close();
    throw notInitialized(home);
  }
  return client;
}

function notInitialized(home: string): ClientError {
  return new ClientError('NOT_INITIALIZED', `no Pigeon profile in ${home}; create one with: pigeon init --relay URL`);
}
