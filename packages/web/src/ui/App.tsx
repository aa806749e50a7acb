import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Engine } from '../engine.js';
import { translator } from '../i18n/index.js';
import type { Locale } from '../i18n/index.js';
import { applyTheme, loadLocale, loadTheme, saveLocale, saveTheme } from '../logic/prefs.js';
import type { ThemePref } from '../logic/prefs.js';
import { I18nContext } from './i18n-context.js';
import { Main } from './Main.js';
import { Onboarding } from './Onboarding.js';

export function App({ engine }: { engine: Engine }) {
  const [locale, setLocale] = useState<Locale>(loadLocale());
  const [theme, setTheme] = useState<ThemePref>(loadTheme());
  const [ready, setReady] = useState(engine.client.isInitialized());
  const i18n = useMemo(() => ({ locale, t: translator(locale) }), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = i18n.t('appName');
  }, [locale]);
  useEffect(() => applyTheme(document.documentElement, theme), [theme]);
  const prefs = {
    theme,
    onLocale: (l: Locale) => {
      saveLocale(l);
      setLocale(l);
    },
    onTheme: (th: ThemePref) => {
      saveTheme(th);
      setTheme(th);
    },
  };
  return (
    <I18nContext.Provider value={i18n}>
      {ready ? (
        <Main client={engine.client} store={engine.store} relayUrl={engine.relayUrl} prefs={prefs} />
      ) : (
        <Onboarding client={engine.client} relayUrl={engine.relayUrl} onCreated={() => setReady(true)} prefs={prefs} />
      )}
    </I18nContext.Provider>
  );
}
