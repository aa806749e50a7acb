import { ClientError, isClientError } from '@pigeon/client';
import type { StoredMessage } from '@pigeon/client';
import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { keyChangeWarning, safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { sendToGroup } from './group.js';
import { UsageError } from '../errors.js';

export const sendCommand: Command = {
  name: 'send',
  summary: 'send a message and wait until the relay has it',
  help: `Usage: pigeon send <contact> <text...>
       pigeon send --group <group> <text...>

Encrypts the message, stores it in your outbox, connects and waits for the relay to
accept it. If the relay cannot be reached the message stays queued and goes out the
next time pigeon connects (send, chat, inbox or listen).

If the contact's keys changed (a new device on their account), sending is refused
(IDENTITY_CHANGED) until you run: pigeon verify <contact> --acknowledge

Options:
  --group GROUP    send to a group (its name or id) instead of a contact
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { timeout: { type: 'string' }, group: { type: 'string' } },
  positionals: [1, Infinity],
  async run(ctx) {
    const { out, home, values, positionals } = ctx;
    if (typeof values.group === 'string') return sendToGroup(ctx, values.group);
    if (positionals.length < 2) throw new UsageError('missing argument', 'send');
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      const contact = client.findContact(positionals[0]!);
      const text = positionals.slice(1).join(' ');
      let message: StoredMessage;
      try {
        message = await client.send(contact.id, text);
      } catch (err) {
        if (isClientError(err, 'IDENTITY_CHANGED')) throw new ClientError('IDENTITY_CHANGED', keyChangeWarning(contact));
        throw err;
      }
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
