import { useState } from 'preact/hooks';
import type { PigeonClient, Profile } from '@pigeon/client';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { LinkDevice } from './LinkDevice.js';
import { Preferences } from './Preferences.js';
import type { PrefsProps } from './Preferences.js';

export function Onboarding({ client, relayUrl, onCreated, prefs }: { client: PigeonClient; relayUrl: string; onCreated: (p: Profile) => void; prefs: PrefsProps }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // "Link to an existing account": this browser becomes another device of an account (LinkDevice.tsx).
  const [linking, setLinking] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || name.trim() === '') return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await client.init({ relayUrl, displayName: name }));
    } catch (err) {
      setError(t('createFailed', { code: errorCode(err) }));
      setBusy(false);
    }
  };
  return (
    <main class="onboarding" id="main">
      <div class="card">
        <h1 class="brand">
          <span class="logo" aria-hidden="true" />
          {t('appName')}
        </h1>
        {linking ? (
          <LinkDevice client={client} relayUrl={relayUrl} onLinked={onCreated} onCancel={() => setLinking(false)} />
        ) : (
          <>
            <h2>{t('welcomeTitle')}</h2>
            <p>{t('welcomeText')}</p>
            <form onSubmit={submit}>
              <label for="display-name">{t('displayName')}</label>
              <input id="display-name" name="displayName" autoComplete="nickname" maxLength={64} required value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
              <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
                {busy ? t('creating') : t('create')}
              </button>
              {error && (
                <p class="error" role="alert">
                  {error}
                </p>
              )}
            </form>
            <div class="link-existing">
              <p class="muted small">{t('linkExistingHint')}</p>
              <button type="button" class="secondary" onClick={() => setLinking(true)}>
                {t('linkExisting')}
              </button>
            </div>
          </>
        )}
        <p class="muted small">
          {t('relay')}: <code>{relayUrl}</code>
        </p>
        <Preferences {...prefs} />
      </div>
    </main>
  );
}
