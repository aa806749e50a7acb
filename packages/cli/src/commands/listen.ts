import type { Contact, StoredMessage } from '@pigeon/client';
import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { contactLine, messageJson, messageLine } from '../format.js';
import { openInitialized } from '../profile.js';

export const listenCommand: Command = {
  name: 'listen',
  summary: 'stay connected and print messages as they arrive',
  help: `Usage: pigeon listen [--json]

Stays connected (reconnecting as needed) and prints each message as it arrives,
marking it read. Stop with Ctrl-C. With --json, prints one JSON object per line:
{"event":"message",...}, {"event":"status",...}, {"event":"contact",...},
{"event":"connection","state":...}.

Options:
  --timeout SECS   how long to wait for the first connection before warning (default 10)`,
  options: { timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values, interrupted }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    const names = new Map<string, Contact>(client.contacts().map((c) => [c.id, c]));
    const nameOf = (id: string) => names.get(id)?.name ?? 'unknown';
    try {
      client.on('contact', (c) => {
        names.set(c.id, c);
        out.data({ event: 'contact', ...c });
        out.line(`New contact: ${contactLine(c)}`);
      });
      client.on('message', (m: StoredMessage) => {
        out.data({ event: 'message', ...messageJson(m, names.get(m.contactId)) });
        out.line(messageLine(m, nameOf(m.contactId)));
        void client.markRead([m.id]);
      });
      client.on('status', (m: StoredMessage) => {
        out.data({ event: 'status', id: m.id, contactId: m.contactId, state: m.state });
        out.line(`Message to ${nameOf(m.contactId)}: ${m.state}`);
      });
      client.on('connection', (state) => {
        out.data({ event: 'connection', state });
        if (state === 'connected') out.note('Connected.');
        else if (state === 'offline') out.note('Offline; reconnecting...');
      });
      client.connect({ timeoutMs: wait }).catch((err: unknown) => {
        out.note(`pigeon: ${err instanceof Error ? err.message : String(err)}; still trying...`);
      });
      out.note('Listening for messages (Ctrl-C to stop).');
      await interrupted;
      return 0;
    } finally {
      await client.close();
    }
  },
};
