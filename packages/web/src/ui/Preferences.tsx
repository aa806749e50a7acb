import { LOCALE_NAMES, LOCALES } from '../i18n/index.js';
import type { Locale } from '../i18n/index.js';
import type { ThemePref } from '../logic/prefs.js';
import { useI18n } from './i18n-context.js';

export interface PrefsProps {
  readonly theme: ThemePref;
  readonly onLocale: (l: Locale) => void;
  readonly onTheme: (t: ThemePref) => void;
}

/** Language and theme pickers (on the welcome screen and in settings). */
export function Preferences({ theme, onLocale, onTheme }: PrefsProps) {
  const { t, locale } = useI18n();
  return (
    <div class="prefs">
      <label>
        {t('language')}
        <select value={locale} onChange={(e) => onLocale((e.currentTarget as HTMLSelectElement).value as Locale)}>
          {LOCALES.map((l) => (
            <option value={l} lang={l} key={l}>
              {LOCALE_NAMES[l]}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('theme')}
        <select value={theme} onChange={(e) => onTheme((e.currentTarget as HTMLSelectElement).value as ThemePref)}>
          <option value="system">{t('themeSystem')}</option>
          <option value="light">{t('themeLight')}</option>
          <option value="dark">{t('themeDark')}</option>
        </select>
      </label>
    </div>
  );
}
