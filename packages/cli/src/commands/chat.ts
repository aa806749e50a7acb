import { isClientError } from '@pigeon/client';
import type { StoredMessage } from '@pigeon/client';
import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { describeError } from '../errors.js';
import { keyChangeWarning, messageLine, safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { readChatLines } from '../chat-input.js';
import { groupChat } from './group-chat.js';
import { attachChatLife } from './chat-life.js';
import { UsageError } from '../errors.js';
import { describeConnection, hasRoutes } from '../route-setup.js';

/** Messages of history shown when a chat opens. */
export const CHAT_HISTORY = 20;
/** On exit, how long to wait for queued messages to reach the relay. */
const EXIT_FLUSH_MS = 5_000;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'talk with a contact interactively',
  help: `Usage: pigeon chat <contact>
       pigeon chat --group <group>

Opens an interactive conversation: type a line and press Enter to send it. Shows
incoming messages and the state of yours (queued, ✓ sent, ✓✓ delivered, ✓✓ read).
Messages shown here are marked read, which sends read receipts unless you turned
them off (pigeon settings). Works offline: messages queue and go out when the relay
is reachable. /quit or Ctrl-D leaves.

Shows replies (↪ "quote"), edits, deletions, reactions and "… is typing"; tells the
contact while you type. Message ids for reply/react/edit/delete: --ids.

Options:
  --ids            show the first characters of each message id
  --group GROUP    talk in a group (its name or id) instead
  --timeout SECS   how long to wait for the first connection before warning (default 10)`,
  options: { timeout: { type: 'string' }, group: { type: 'string' }, ids: { type: 'boolean' } },
  positionals: [0, 1],
  async run(ctx) {
    const { io, out, home, values, positionals, interrupted } = ctx;
    const withIds = values['ids'] === true;
    if (typeof values.group === 'string') return groupChat(ctx, values.group);
    if (positionals.length < 1) throw new UsageError('missing argument', 'chat');
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      const contact = client.findContact(positionals[0]!);
      const name = contact.name;
      const show = (m: StoredMessage) => (withIds ? `${m.id.slice(0, 8)} ` : '') + messageLine(m, name);
      const history = client.messages(contact.id, { limit: CHAT_HISTORY });
      out.line(`Chat with ${safeText(name)} (${contact.pigeonId}${contact.verified ? ', verified' : ''}). /quit to leave.`);
      for (const m of history) out.line(show(m));
      if (contact.keyChanged) out.note(`pigeon: WARNING: ${keyChangeWarning(contact)}`);
      // Receipts for what we read are queued asynchronously; the exit flush waits for them.
      let reading = client.markRead(history.filter((m) => m.direction === 'in' && !m.read).map((m) => m.id));

      client.on('message', (m: StoredMessage) => {
        if (m.contactId === contact.id) {
          out.data({ event: 'message', ...m, contactName: name });
          out.line(show(m));
          reading = reading.then(() => client.markRead([m.id]));
        } else {
          out.data({ event: 'message', ...m });
          out.line('(a new message from another contact; see pigeon inbox)');
        }
      });
      client.on('status', (m: StoredMessage) => {
        if (m.contactId !== contact.id) return;
        out.data({ event: 'status', id: m.id, state: m.state });
        // The state word stays last on this line: scripts and packages/e2e match `-> "text" <state>$`.
        out.line(`  -> "${safeText(m.text.length > 30 ? m.text.slice(0, 30) + '...' : m.text)}" ${m.state}`);
      });
      client.on('safety', (e) => {
        if (e.contactId !== contact.id) return;
        out.data({ event: 'key_changed', ...e });
        out.note(`pigeon: WARNING: ${keyChangeWarning(contact)}`);
      });
      const life = attachChatLife(client, contact, out, io.stdin);
      client.on('connection', (state) => {
        out.data({ event: 'connection', state });
        // With bridges configured the header names the route ("connected via bridge ..."), and
        // says "no route" when every route is blocked; plain profiles keep the short notes.
        const routed = hasRoutes(client);
        if (state === 'connected') out.note(routed ? `(${describeConnection(client).text})` : '(connected)');
        else if (state === 'offline') out.note(routed ? `(${describeConnection(client).text}: messages will queue)` : '(offline: messages will queue)');
      });
      client.connect({ timeoutMs: wait }).catch((err: unknown) => {
        out.note(`pigeon: ${describeError(err).message}; messages will queue until it is reachable`);
      });

      const input = readChatLines(io.stdin, interrupted, async (text) => {
        try {
          life.sent();
          const m = await client.send(contact.id, text);
          out.data({ event: 'sent', ...m });
          out.line(show(m));
        } catch (err) {
          out.note(`pigeon: ${isClientError(err, 'IDENTITY_CHANGED') ? keyChangeWarning(contact) : describeError(err).message}`);
        }
      });
      await input.closed;
      life.stop();
      await input.drained();
      await reading;
      try {
        await client.flush(EXIT_FLUSH_MS);
      } catch (err) {
        if (!isClientError(err)) throw err;
        out.note(`${client.outboxSize()} message(s) stay queued and go out the next time pigeon connects.`);
      }
      return 0;
    } finally {
      await client.close();
    }
  },
};
