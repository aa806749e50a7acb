import type { Contact, StoredMessage } from '@pigeon/client';
import { lifeSuffix, replyPrefix, shownText } from './life-format.js';

export function time(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** How a message's state reads in a terminal: ✓ at the relay, ✓✓ on their device, then read. */
export const STATE_MARK: Record<StoredMessage['state'], string> = {
  queued: 'queued',
  sent: '✓ sent',
  delivered: '✓✓ delivered',
  read: '✓✓ read',
  failed: 'FAILED',
};

/** Strips terminal control characters from text that came from someone else. */
export function safeText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD');
}

export function messageLine(m: StoredMessage, contactName: string): string {
  // Replies, edits, deletions, reactions, timers (life-format.ts): plain messages read as before.
  const text = replyPrefix(m) + safeText(shownText(m));
  if (m.direction === 'in') return `[${time(m.sentAt)}] ${safeText(contactName)}: ${text}${lifeSuffix(m)}`;
  return `[${time(m.sentAt)}] you -> ${safeText(contactName)}: ${text} (${STATE_MARK[m.state]})${lifeSuffix(m)}`;
}

export function messageJson(m: StoredMessage, contact: Contact | undefined): Record<string, unknown> {
  return { ...m, contactName: contact?.name ?? null };
}

export function contactLine(c: Contact): string {
  return `${safeText(c.name)}  ${c.pigeonId}${c.verified ? '  (verified)' : ''}${c.keyChanged ? '  (KEY CHANGED)' : ''}`;
}

/** The warning for a contact whose keys changed, with the command that acknowledges it. */
export function keyChangeWarning(c: Contact): string {
  return (
    `the keys of ${safeText(c.name)} changed (a device we have not seen before appeared on their account). ` +
    `Sending is blocked until you acknowledge it; compare the safety number if you can, then run: ` +
    `pigeon verify ${JSON.stringify(c.name)} --acknowledge`
  );
}
