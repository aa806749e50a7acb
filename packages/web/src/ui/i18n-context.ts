import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { translator } from '../i18n/index.js';
import type { Locale, Translate } from '../i18n/index.js';

export interface I18n {
  readonly locale: Locale;
  readonly t: Translate;
}

export const I18nContext = createContext<I18n>({ locale: 'en', t: translator('en') });
export const useI18n = (): I18n => useContext(I18nContext);
