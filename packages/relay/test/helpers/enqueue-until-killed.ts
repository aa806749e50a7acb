/**
 * Child process of the crash test in postgres-store.test.ts: opens the PostgreSQL store given as
 * argv[2] and keeps many enqueues in flight (so group-commit batches are always at the server)
 * until it is killed. Each message id is printed (hex, one line) only after its enqueue resolved,
 * i.e. when a relay would answer the sender `ok`; stdout to a pipe is synchronous on Linux, so a
 * printed line was acknowledged before the next write started.
 */
import { randomBytes } from 'node:crypto';
import { openPostgresStore } from '../../src/store/postgres-store.js';

const url = process.argv[2];
// The test runner also loads every file under test/ on its own: without a URL there is nothing to do.
if (url !== undefined) await run(url);

async function run(url: string): Promise<void> {
  const store = await openPostgresStore({ url, poolSize: 4 });
  const recipients = Array.from({ length: 20 }, () => new Uint8Array(randomBytes(16)));
  const limits = { maxMessages: 1_000_000, maxBytes: 1 << 30 };
  const writer = async (w: number): Promise<never> => {
    for (let n = 0; ; n++) {
      const messageId = new Uint8Array(randomBytes(16));
      const outcome = await store.enqueue(
        { recipientDeviceId: recipients[(w + n) % recipients.length]!, messageId, envelope: new Uint8Array(64), receivedAt: 1, expiresAt: Number.MAX_SAFE_INTEGER },
        limits,
      );
      if (outcome !== 'stored') throw new Error(`unexpected ${outcome}`);
      process.stdout.write(`${Buffer.from(messageId).toString('hex')}\n`);
    }
  };
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: 64 }, (_, w) => writer(w)));
}
