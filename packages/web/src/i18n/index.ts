/**
 * Two languages, switchable; the default follows navigator.languages. Strings have {name}
 * placeholders; no markup in strings, so nothing is ever injected as HTML.
 */
import { en } from './en.js';
import type { MessageKey } from './en.js';
import { ru } from './ru.js';

export type Locale = 'en' | 'ru';
export const LOCALES: readonly Locale[] = ['en', 'ru'];
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский' };
const TABLES: Record<Locale, Record<MessageKey, string>> = { en, ru };

export type { MessageKey };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The first supported language in the browser's preference list, else English. */
export function pickLocale(preferred: readonly string[], saved?: string | null): Locale {
  if (saved === 'en' || saved === 'ru') return saved;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ru' || base === 'en') return base;
  }
  return 'en';
}

export function translator(locale: Locale): Translate {
  const table = TABLES[locale];
  return (key, params) => {
    const text = table[key] ?? en[key];
    return params ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m)) : text;
  };
}
