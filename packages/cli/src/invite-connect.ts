/**
 * Invite links carry a delivery token of their own once the relay has confirmed it, so blocking
 * someone later does not break links already given out (docs/message-life.md). That needs the
 * relay: connect first; when it cannot be reached the link is still made, with the account token.
 */
import type { PigeonClient } from '@pigeon/client';
import { describeError } from './errors.js';
import type { Output } from './io.js';

export async function connectForInvite(client: PigeonClient, timeoutMs: number, out: Output): Promise<void> {
  try {
    await client.connect({ timeoutMs });
  } catch (err) {
    out.note(`pigeon: ${describeError(err).message}; the link carries your account token (blocking someone before it is used breaks it)`);
  }
}
