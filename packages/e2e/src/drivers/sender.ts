#!/usr/bin/env node
/**
 * Sender driver (a child process of the tests): opens a profile with the SDK, sends
 * `<prefix><i>` for i = 1..count to one contact with a pause between sends, then waits until
 * the outbox is empty. Prints one JSON line per event on stdout (synchronous for pipes, so a
 * line that was printed happened before any later SIGKILL):
 *   {"event":"queued","id","text","i","t"}  send() resolved: message + outbox row committed
 *   {"event":"status","id","text","state","t"}  'sent' = every envelope acknowledged by the relay
 *   {"event":"connection","state","t"}
 *   {"event":"flushed","outbox":0,"t"}  then the process exits 0
 * Usage: sender.js --home DIR --contact NAME --count N [--delay-ms MS] [--prefix P]
 */
import { parseArgs } from 'node:util';
import { PigeonClient } from '@pigeon/client';
import { emit, errorCode, forever, sleep } from './common.js';

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    contact: { type: 'string' },
    count: { type: 'string', default: '0' },
    'delay-ms': { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'm' },
  },
});
const count = Number(values.count);
const delayMs = Number(values['delay-ms']);

const client = await PigeonClient.open({ home: values.home! });
const contact = client.findContact(values.contact!);
client.on('status', (m) => emit({ event: 'status', id: m.id, text: m.text, state: m.state }));
client.on('connection', (state) => emit({ event: 'connection', state }));
client.connect({ timeoutMs: 120_000 }).catch((err: unknown) => emit({ event: 'connect_failed', code: errorCode(err) }));
emit({ event: 'started', outbox: client.outboxSize() });

for (let i = 1; i <= count; i++) {
  const m = await client.send(contact.id, `${values.prefix}${i}`);
  emit({ event: 'queued', id: m.id, text: m.text, i });
  if (delayMs > 0) await sleep(delayMs);
}
// The relay may be down for a while: keep waiting (the tests bound the whole run).
await forever(async () => {
  try {
    await client.flush(30_000);
    return true;
  } catch (err) {
    emit({ event: 'flush_waiting', code: errorCode(err), outbox: client.outboxSize() });
    return false;
  }
});
emit({ event: 'flushed', outbox: client.outboxSize() });
await client.close();
process.exit(0);
