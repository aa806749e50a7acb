/** Helpers for group and linked-device tests: several connected clients, contacts between them, waiting for conditions. */
import { join } from 'node:path';
import type { PigeonClient } from '../src/index.node.js';
import { nextEvent, openClient } from './helpers.js';

export interface Person {
  readonly name: string;
  readonly client: PigeonClient;
  readonly home: string;
  /** hex account id */
  readonly id: string;
}

export async function makePerson(root: string, relayUrl: string, name: string, logger?: (event: string) => void): Promise<Person> {
  const home = join(root, `${name}-${Math.random().toString(16).slice(2)}`);
  const client = await openClient(home, logger ? { logger } : {});
  const profile = await client.init({ relayUrl, displayName: name });
  await client.connect();
  return { name, client, home, id: profile.accountId };
}

/** b accepts a's invite; resolves when both know each other. */
export async function befriend(a: Person, b: Person): Promise<void> {
  const { link } = await a.client.createInvite();
  const seen = nextEvent<{ id: string }>((fn) => a.client.on('contact', fn), (c) => c.id === b.id);
  await b.client.acceptInvite(link);
  await b.client.flush();
  await seen;
}

/**
 * Polls `done` until it holds (each check is cheap and local; the wait is bounded). Used where
 * many messages to many clients must all have arrived; never as a timing assertion.
 */
export async function waitUntil(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

export async function closeAll(people: readonly Person[]): Promise<void> {
  for (const p of people) await p.client.close();
}
