/**
 * What `pigeon chat` adds for message life: lines for edits, deletions, reactions, timer
 * changes and expiries, "… is typing", and typing indicators sent while the user types
 * (debounced: a start when input arrives, a stop after TYPING_IDLE_MS without input or when
 * the line is sent). Input arrives per chunk, so on a line-buffered terminal the start goes
 * out when the line does; piped input and raw terminals show it as they type.
 */
import type { Contact, PigeonClient } from '@pigeon/client';
import type { Output } from '../io.js';
import { safeText } from '../format.js';
import { lifeSuffix, shownText } from '../life-format.js';
import { formatDuration } from './message-life.js';

/** Without input this long, we tell the contact we stopped typing. */
export const TYPING_IDLE_MS = 4_000;

export interface ChatLife {
  /** The user sent a line: typing is over. */
  sent(): void;
  stop(): void;
}

export function attachChatLife(client: PigeonClient, contact: Contact, out: Output, stdin: NodeJS.ReadableStream): ChatLife {
  const name = safeText(contact.name);
  const offs: (() => void)[] = [];
  offs.push(
    client.on('update', (u) => {
      if (u.contactId !== contact.id) return;
      out.data({ event: 'update', ...u });
      const who = u.by === contact.id ? name : 'you';
      if (u.kind === 'timer') {
        out.line(`  (${who} set disappearing messages to ${formatDuration(u.timerMs ?? 0)})`);
        return;
      }
      if (u.kind === 'expired') return;
      const m = client.messages(contact.id).find((x) => x.id === u.messageId);
      if (!m) return;
      const what = u.kind === 'edited' ? 'edited' : u.kind === 'deleted' ? 'deleted' : 'reacted to';
      out.line(`  (${who} ${what} "${safeText(shownText(m).slice(0, 30))}")${u.kind === 'reaction' ? lifeSuffix({ ...m, edited: false, timerMs: 0 }) : ''}`);
    }),
  );
  let typingShown = false;
  offs.push(
    client.on('message', (m) => {
      if (m.contactId === contact.id) typingShown = false;
    }),
  );
  offs.push(
    client.on('typing', (t) => {
      if (t.contactId !== contact.id || t.typing === typingShown) return;
      typingShown = t.typing;
      out.data({ event: 'typing', contactId: t.contactId, typing: t.typing });
      if (t.typing) out.note(`… ${name} is typing`);
    }),
  );

  let idle: ReturnType<typeof setTimeout> | null = null;
  const stopTyping = () => {
    if (idle) clearTimeout(idle);
    idle = null;
    void client.sendTyping(contact.id, false).catch(() => undefined);
  };
  const onData = (chunk: Buffer | string) => {
    const text = String(chunk);
    // A chunk that is only whole lines is a sent message, not typing.
    if (/^[^\n]*\n$/.test(text) && idle === null) return;
    void client.sendTyping(contact.id, true).catch(() => undefined);
    if (idle) clearTimeout(idle);
    idle = setTimeout(stopTyping, TYPING_IDLE_MS);
  };
  stdin.on('data', onData);
  return {
    sent: () => {
      if (idle) stopTyping();
    },
    stop: () => {
      stdin.off('data', onData);
      if (idle) clearTimeout(idle);
      for (const off of offs) off();
    },
  };
}
