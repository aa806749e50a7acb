import { ClientError, isClientError } from '@pigeon/client';
import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { safeText } from '../format.js';
import { openInitialized } from '../profile.js';

export const sendCommand: Command = {
  name: 'send',
  summary: 'send a message and wait until the relay has it',
  help: `Usage: pigeon send <contact> <text...>

Encrypts the message, stores it in your outbox, connects and waits for the relay to
accept it. If the relay cannot be reached the message stays queued and goes out the
next time pigeon connects (send, chat, inbox or listen).

Options:
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { timeout: { type: 'string' } },
  positionals: [2, Infinity],
  async run({ out, home, values, positionals }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      const contact = client.findContact(positionals[0]!);
      const text = positionals.slice(1).join(' ');
      const message = await client.send(contact.id, text);
      try {
        await client.connect({ timeoutMs: wait });
        await client.flush(wait);
      } catch (err) {
        if (isClientError(err, 'RELAY_UNREACHABLE') || isClientError(err, 'TIMEOUT')) {
          throw new ClientError(err.code, `${err.message}; the message is queued and will be sent the next time pigeon connects`);
        }
        throw err;
      }
      const state = client.messages(contact.id).find((m) => m.id === message.id)?.state ?? message.state;
      out.data({ ...message, state, contactName: contact.name });
      out.line(`Message to ${safeText(contact.name)}: ${state}`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
