import type { GroupMessage } from '@pigeon/client';
import type { CommandContext } from '../command.js';
import { timeoutMs } from '../command.js';
import { describeError } from '../errors.js';
import { safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { readChatLines } from '../chat-input.js';
import { groupMessageLine } from './group.js';

/** Messages of history shown when a group chat opens. */
export const GROUP_CHAT_HISTORY = 20;
const EXIT_FLUSH_MS = 5_000;

/** `pigeon chat --group G`: type lines to send them to the group; incoming group messages are shown. */
export async function groupChat(ctx: CommandContext, groupName: string): Promise<number> {
  const { io, out, home, values, interrupted } = ctx;
  const wait = timeoutMs(values);
  const client = await openInitialized(home, wait);
  try {
    const group = client.groups.find(groupName);
    out.line(`Group ${safeText(group.name)} (${group.members.length} members). /quit to leave.`);
    const history = client.groups.messages(group.id, { limit: GROUP_CHAT_HISTORY });
    for (const m of history) out.line(groupMessageLine(m, group.name, client.groups.attachment(m.id) !== undefined));
    await client.groups.markRead(history.filter((m) => !m.read).map((m) => m.id));
    client.groups.on('message', (m: GroupMessage) => {
      out.data({ event: 'message', ...m });
      if (m.groupId !== group.id) {
        out.line('(a new message in another group; see pigeon inbox)');
        return;
      }
      out.line(groupMessageLine(m, group.name, client.groups.attachment(m.id) !== undefined));
      // Read receipts go out in the background; a failure is logged by the SDK.
      void client.groups.markRead([m.id]).catch(() => undefined);
    });
    client.groups.on('group', (e) => {
      if (e.group.id !== group.id) return;
      out.data({ event: 'group', kind: e.kind, group: e.group });
      out.note(e.kind === 'removed' ? '(you are no longer in this group)' : `(the group changed: ${safeText(e.group.name)}, ${e.group.members.length} members)`);
    });
    client.on('connection', (state) => {
      out.data({ event: 'connection', state });
      if (state === 'connected') out.note('(connected)');
      else if (state === 'offline') out.note('(offline: messages will queue)');
    });
    client.connect({ timeoutMs: wait }).catch((err: unknown) => out.note(`pigeon: ${describeError(err).message}; messages will queue until it is reachable`));
    const input = readChatLines(io.stdin, interrupted, async (text) => {
      try {
        const m = await client.groups.send(group.id, text);
        out.data({ event: 'sent', ...m });
        out.line(groupMessageLine(m, group.name));
      } catch (err) {
        out.note(`pigeon: ${describeError(err).message}`);
      }
    });
    await input.closed;
    await input.drained();
    try {
      await client.flush(EXIT_FLUSH_MS);
    } catch {
      out.note(`${client.outboxSize()} message(s) stay queued and go out the next time pigeon connects.`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
