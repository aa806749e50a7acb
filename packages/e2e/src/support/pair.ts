/**
 * Two SDK profiles that know each other, made in the test process (faster than four CLI runs):
 * Alice invites, Bob accepts (Bob's introduction reaches Alice), both clients are closed again
 * so the driver processes can open the same profile directories.
 */
import { join } from 'node:path';
import { PigeonClient } from '@pigeon/client';
import type { StoredMessage } from '@pigeon/client';
import { WAIT_MS } from './processes.js';

export interface Pair {
  readonly aliceHome: string;
  readonly bobHome: string;
}

export async function makePair(relayUrl: string, dir: string): Promise<Pair> {
  const aliceHome = join(dir, 'alice');
  const bobHome = join(dir, 'bob');
  const alice = await PigeonClient.open({ home: aliceHome });
  const bob = await PigeonClient.open({ home: bobHome });
  try {
    await alice.init({ relayUrl, displayName: 'Alice' });
    await bob.init({ relayUrl, displayName: 'Bob' });
    const { link } = await alice.createInvite();
    await bob.acceptInvite(link);
    await bob.flush(WAIT_MS);
    const introduced = new Promise<void>((resolve) => alice.on('contact', () => resolve()));
    await alice.connect({ timeoutMs: WAIT_MS });
    await alice.sync(WAIT_MS);
    if (alice.contacts().length === 0) await introduced;
  } finally {
    await alice.close();
    await bob.close();
  }
  return { aliceHome, bobHome };
}

/** Reads a profile's conversation with its only contact (the profile must not be open elsewhere for writing). */
export async function readConversation(home: string): Promise<StoredMessage[]> {
  const client = await PigeonClient.open({ home });
  try {
    const [contact] = client.contacts();
    if (!contact) throw new Error(`${home} has no contact`);
    return client.messages(contact.id);
  } finally {
    await client.close();
  }
}
