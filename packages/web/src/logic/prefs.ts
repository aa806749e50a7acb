/** UI preferences (not secrets): kept in localStorage, applied to <html>. */
import { pickLocale } from '../i18n/index.js';
import type { Locale } from '../i18n/index.js';

export type ThemePref = 'system' | 'light' | 'dark';
const LOCALE_KEY = 'pigeon.locale';
const THEME_KEY = 'pigeon.theme';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled: preferences just are not remembered
  }
}

export function loadLocale(): Locale {
  return pickLocale(globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en'], storage()?.getItem(LOCALE_KEY));
}

export function saveLocale(locale: Locale): void {
  storage()?.setItem(LOCALE_KEY, locale);
}

export function loadTheme(): ThemePref {
  const v = storage()?.getItem(THEME_KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

export function saveTheme(theme: ThemePref): void {
  if (theme === 'system') storage()?.removeItem(THEME_KEY);
  else storage()?.setItem(THEME_KEY, theme);
}

/** 'system' leaves the choice to prefers-color-scheme in the CSS. */
export function applyTheme(root: HTMLElement, theme: ThemePref): void {
  if (theme === 'system') delete root.dataset['theme'];
  else root.dataset['theme'] = theme;
}
