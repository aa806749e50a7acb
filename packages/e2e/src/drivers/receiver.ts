#!/usr/bin/env node
/**
 * Receiver driver (a child process of the tests): opens a profile with the SDK, connects, and
 * prints one JSON line per application-level event on stdout:
 *   {"event":"message","id","text","sentAt","contactId","t"}   each 'message' the SDK emits
 *   {"event":"connection","state","t"}
 *   {"event":"synced","t"}   the relay's backlog at the first connection has been processed
 * Runs until SIGTERM/SIGINT, then closes the client and prints {"event":"closed"}.
 * Usage: receiver.js --home DIR
 */
import { parseArgs } from 'node:util';
import { PigeonClient } from '@pigeon/client';
import { emit, errorCode } from './common.js';

const { values } = parseArgs({ options: { home: { type: 'string' } } });
const client = await PigeonClient.open({ home: values.home! });
client.on('message', (m) => emit({ event: 'message', id: m.id, text: m.text, sentAt: m.sentAt, contactId: m.contactId }));
client.on('connection', (state) => emit({ event: 'connection', state }));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  client.close().then(
    () => {
      emit({ event: 'closed' });
      process.exit(0);
    },
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

try {
  await client.connect({ timeoutMs: 60_000 });
  await client.sync(60_000);
  emit({ event: 'synced' });
} catch (err) {
  emit({ event: 'sync_failed', code: errorCode(err) });
}
