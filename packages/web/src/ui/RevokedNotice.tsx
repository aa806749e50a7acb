/**
 * Shown instead of the app once this browser learnt it was removed from its account (the SDK's
 * `devices.isRevoked()` / `revoked` event: the account's signed list no longer names it). The
 * relay deleted its mailbox and contacts no longer send to it, so the client is closed; the only
 * way on is to reset the profile (delete the IndexedDB database) and start again.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PigeonClient } from '@pigeon/client';
import { PROFILE_DB } from '../engine.js';
import { clearDiskDownloads } from '../logic/disk-download.js';
import { deleteIdbStore } from '../store/idb-store.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';

/** Deletes this browser's profile and reloads into onboarding. */
export async function resetBrowserProfile(client: PigeonClient): Promise<void> {
  await client.close();
  await deleteIdbStore(PROFILE_DB);
  // Decrypted files of the old profile go too.
  await clearDiskDownloads().catch(() => undefined);
  location.reload();
}

export function RevokedNotice({ client, onReset = resetBrowserProfile }: { client: PigeonClient; onReset?: (client: PigeonClient) => Promise<void> }) {
  const { t } = useI18n();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Nothing more can arrive: stop reconnecting to a relay that refuses this device.
  useEffect(() => void client.close().catch(() => undefined), []);
  const reset = async () => {
    setBusy(true);
    try {
      await onReset(client);
    } catch (err) {
      setError(t('actionFailed', { code: errorCode(err) }));
      setBusy(false);
    }
  };
  return (
    <main class="onboarding" id="main">
      <div class="card revoked" role="alert" data-testid="revoked">
        <h1 class="brand">
          <span class="logo" aria-hidden="true" />
          {t('appName')}
        </h1>
        <h2>{t('removedTitle')}</h2>
        <p>{t('removedText')}</p>
        {confirming ? (
          <div role="alertdialog" aria-labelledby="reset-confirm">
            <p id="reset-confirm">{t('confirmReset')}</p>
            <div class="row">
              <button type="button" class="danger" onClick={() => void reset()} disabled={busy}>
                {busy ? t('resetting') : t('resetProfile')}
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(false)} disabled={busy}>
                {t('cancel')}
              </button>
            </div>
          </div>
        ) : (
          <button type="button" class="primary" onClick={() => setConfirming(true)}>
            {t('resetProfile')}
          </button>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}
