import { isClientError } from '@pigeon/client';
import type { Command } from '../command.js';
import { stringOpt, timeoutMs } from '../command.js';
import { safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { rememberInviteBridges } from '../route-setup.js';

export const acceptCommand: Command = {
  name: 'accept',
  summary: 'add a contact from their invite link',
  help: `Usage: pigeon accept <link> [--name ALIAS]

Adds the person who made the invite link as a contact, starts an encrypted session
and sends them an introduction so they can write back.

Options:
  --name ALIAS     what to call this contact (default: the name in the link)
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { name: { type: 'string' }, timeout: { type: 'string' } },
  positionals: [1, 1],
  async run({ out, home, values, positionals }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      const name = stringOpt(values, 'name');
      // Bridges carried by the invite are remembered first, so the introduction can use them.
      const bridges = rememberInviteBridges(client, positionals[0]!);
      if (bridges > 0) out.note(`pigeon: the invite carried ${bridges} bridge route(s); added`);
      const contact = await client.acceptInvite(positionals[0]!, name !== undefined ? { name } : {});
      let introduced = true;
      try {
        await client.flush(wait);
      } catch (err) {
        if (!isClientError(err)) throw err;
        introduced = false;
      }
      out.data({ contact, introduced });
      out.line(`Added ${safeText(contact.name)} (${contact.pigeonId}).`);
      if (introduced) out.line(`Your introduction is on its way; ${safeText(contact.name)} can now write to you.`);
      else out.line('Your introduction is queued; it goes out the next time pigeon reaches the relay.');
      out.line(`Compare safety numbers in person: pigeon verify ${JSON.stringify(contact.name)}`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
