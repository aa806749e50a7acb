import type { Command } from '../command.js';
import { contactLine } from '../format.js';
import { openInitialized } from '../profile.js';

export const contactsCommand: Command = {
  name: 'contacts',
  summary: 'list your contacts',
  help: `Usage: pigeon contacts

Lists your contacts with their Pigeon IDs and whether you verified them.`,
  options: {},
  positionals: [0, 0],
  async run({ out, home }) {
    const client = await openInitialized(home);
    try {
      const contacts = client.contacts();
      out.data({ contacts });
      if (contacts.length === 0) out.line('No contacts yet. Run `pigeon invite`, or `pigeon accept <link>`.');
      for (const c of contacts) out.line(contactLine(c));
      return 0;
    } finally {
      await client.close();
    }
  },
};
