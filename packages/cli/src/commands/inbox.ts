import type { Contact, SafetyEvent } from '@pigeon/client';
import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { keyChangeWarning, messageJson, messageLine, safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { groupMessageJson, groupMessageLine } from './group.js';

/** Receipts are a courtesy: wait only briefly for them before exiting. */
const RECEIPT_FLUSH_MS = 3_000;

export const inboxCommand: Command = {
  name: 'inbox',
  summary: 'fetch new messages, print the unread ones, mark them read',
  help: `Usage: pigeon inbox

Connects, receives everything the relay holds for you, prints your unread messages
and marks them read (which sends read receipts unless you turned them off with
pigeon settings --read-receipts off). Group messages are listed too, with their
group's name (no read receipts in groups). Warns when a contact's keys changed.

Options:
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      const newContacts: Contact[] = [];
      client.on('contact', (c) => newContacts.push(c));
      const keyChanges: SafetyEvent[] = [];
      client.on('safety', (e) => keyChanges.push(e));
      await client.connect({ timeoutMs: wait });
      await client.sync(wait);
      const contacts = new Map<string, Contact>(client.contacts().map((c) => [c.id, c]));
      const unread = client.unread();
      const groupUnread = client.groups.unread();
      const groupNames = new Map(client.groups.list().map((g) => [g.id, g.name]));
      const requests = client.requests();
      out.data({
        messages: unread.map((m) => messageJson(m, contacts.get(m.contactId))),
        newContacts,
        groupMessages: groupUnread.map((m) => groupMessageJson(client, m, groupNames.get(m.groupId) ?? null)),
        keyChanges: keyChanges.map((e) => ({ ...e, contactName: contacts.get(e.contactId)?.name ?? null })),
        // Mail from unknown senders is held apart (pigeon requests), never mixed into messages.
        requests: requests,
      });
      for (const id of new Set(keyChanges.map((e) => e.contactId))) {
        const c = contacts.get(id);
        if (c) out.line(`WARNING: ${keyChangeWarning(c)}`);
      }
      for (const c of newContacts) out.line(`New contact: ${safeText(c.name)} (${c.pigeonId}) accepted your invite.`);
      if (unread.length === 0 && groupUnread.length === 0) out.line('No new messages.');
      for (const m of unread) out.line(messageLine(m, contacts.get(m.contactId)?.name ?? 'unknown'));
      for (const m of groupUnread) out.line(groupMessageLine(m, groupNames.get(m.groupId) ?? 'group', client.groups.attachment(m.id) !== undefined));
      if (requests.length > 0) out.line(`${requests.length} message request(s) from people who are not your contacts: pigeon requests`);
      await client.groups.markRead(groupUnread.map((m) => m.id));
      await client.markRead(unread.map((m) => m.id));
      await client.flush(RECEIPT_FLUSH_MS).catch(() => undefined);
      return 0;
    } finally {
      await client.close();
    }
  },
};
