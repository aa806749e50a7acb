/** Pure helpers for message life in the UI (docs/message-life.md in the repository). */
import { TYPING_TTL_MS } from '@pigeon/client';

/** The reactions offered by the picker (any emoji works over the wire). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

/** Disappearing-timer choices (ms; 0 = off). */
export const TIMER_CHOICES: readonly { readonly ms: number; readonly label: string }[] = [
  { ms: 0, label: '' },
  { ms: 30_000, label: '30 s' },
  { ms: 5 * 60_000, label: '5 min' },
  { ms: 60 * 60_000, label: '1 h' },
  { ms: 24 * 60 * 60_000, label: '1 d' },
  { ms: 7 * 24 * 60 * 60_000, label: '1 w' },
];

export function timerLabel(ms: number, off: string): string {
  if (ms === 0) return off;
  return TIMER_CHOICES.find((c) => c.ms === ms)?.label ?? `${Math.round(ms / 1000)} s`;
}

/** Is the contact shown as typing at `now` (a start not followed by a stop, and not stale)? */
export function isTyping(typing: Readonly<Record<string, number>>, contactId: string, now: number): boolean {
  const at = typing[contactId];
  return at !== undefined && now - at < TYPING_TTL_MS;
}

/** Reactions grouped for display: emoji -> count, and whether one of them is ours. */
export function groupReactions(reactions: readonly { senderId: string; emoji: string }[] | undefined, me: string): { emoji: string; count: number; mine: boolean }[] {
  const out = new Map<string, { emoji: string; count: number; mine: boolean }>();
  for (const r of reactions ?? []) {
    const g = out.get(r.emoji) ?? { emoji: r.emoji, count: 0, mine: false };
    g.count++;
    if (r.senderId === me) g.mine = true;
    out.set(r.emoji, g);
  }
  return [...out.values()];
}

/** Input events closer than this are one typing burst (the SDK rate-limits 'start' anyway). */
export const TYPING_IDLE_MS = 4_000;
