/** How message-life extras read in the terminal (docs/message-life.md). */
import type { StoredMessage } from '@pigeon/client';
import { safeText } from './format.js';

/** Characters of a quote shown in a reply line. */
export const QUOTE_PREVIEW_CHARS = 40;

/** A prefix for replies ("↪ "quoted…" "), empty for other messages. */
export function replyPrefix(m: StoredMessage): string {
  if (!m.replyTo) return '';
  const chars = [...(m.quote ?? '')];
  const quote = chars.length > QUOTE_PREVIEW_CHARS ? chars.slice(0, QUOTE_PREVIEW_CHARS).join('') + '…' : chars.join('');
  return `↪ "${safeText(quote)}" `;
}

/** The shown text: the tombstone for deleted messages. */
export function shownText(m: StoredMessage): string {
  return m.deleted ? '(message deleted)' : m.text;
}

/** " (edited) [👍 ❤️] ⏱" — empty for plain messages, so plain lines are unchanged. */
export function lifeSuffix(m: StoredMessage): string {
  let s = '';
  if (m.edited && !m.deleted) s += ' (edited)';
  if (m.reactions && m.reactions.length > 0) s += ` [${m.reactions.map((r) => safeText(r.emoji)).join(' ')}]`;
  if (m.timerMs) s += ' ⏱';
  return s;
}
