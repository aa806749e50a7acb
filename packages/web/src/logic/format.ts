/** Time and day formatting for the message view (Intl, so both languages get native formats). */
import type { Locale } from '../i18n/index.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Midnight (local time) of the day holding ts. */
export function startOfDay(ts: number): number {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function formatTime(ts: number, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(ts);
}

export function formatFullDate(ts: number, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(ts);
}

/** 'today' | 'yesterday' | a date (with the year only when it is not this year). */
export function dayLabel(ts: number, now: number, locale: Locale, words: { today: string; yesterday: string }): string {
  const day = startOfDay(ts);
  const today = startOfDay(now);
  if (day === today) return words.today;
  // Not today - DAY_MS: a DST change makes some days 23 or 25 hours long.
  if (day === startOfDay(today - 12 * 60 * 60 * 1000)) return words.yesterday;
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale, sameYear ? { day: 'numeric', month: 'long' } : { day: 'numeric', month: 'long', year: 'numeric' }).format(ts);
}

export type TimelineItem<M> = { kind: 'day'; day: number; key: string } | { kind: 'message'; message: M; key: string };

/** Inserts a day separator before the first message of each local day. Messages must be oldest first. */
export function withDaySeparators<M extends { id: string; sentAt: number }>(messages: readonly M[]): TimelineItem<M>[] {
  const out: TimelineItem<M>[] = [];
  let last: number | null = null;
  for (const m of messages) {
    const day = startOfDay(m.sentAt);
    if (day !== last) {
      out.push({ kind: 'day', day, key: `day-${day}` });
      last = day;
    }
    out.push({ kind: 'message', message: m, key: m.id });
  }
  return out;
}
