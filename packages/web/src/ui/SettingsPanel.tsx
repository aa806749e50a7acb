import { useState } from 'preact/hooks';
import type { Profile } from '@pigeon/client';
import { notificationPermission, requestNotifications } from '../notify.js';
import type { NotifyPermission } from '../notify.js';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { Preferences } from './Preferences.js';
import type { PrefsProps } from './Preferences.js';

export function SettingsPanel({ profile, relayUrl, prefs, onBack }: { profile: Profile; relayUrl: string; prefs: PrefsProps; onBack: () => void }) {
  const { t } = useI18n();
  const [perm, setPerm] = useState<NotifyPermission>(notificationPermission());
  return (
    <section class="panel">
      <PaneHeader title={t('settings')} onBack={onBack} />
      <div class="panel-body">
        <dl class="facts">
          <dt>{t('displayName')}</dt>
          <dd>{profile.displayName}</dd>
          <dt>{t('yourId')}</dt>
          <dd>
            <code>{profile.pigeonId}</code>
          </dd>
          <dt>{t('relay')}</dt>
          <dd>
            <code>{relayUrl}</code>
          </dd>
        </dl>
        <Preferences {...prefs} />
        <h3>{t('notifications')}</h3>
        {perm === 'granted' && <p>{t('notificationsOn')}</p>}
        {perm === 'denied' && <p>{t('notificationsBlocked')}</p>}
        {perm === 'unsupported' && <p>{t('notificationsUnsupported')}</p>}
        {perm === 'default' && (
          <button type="button" class="secondary" onClick={async () => setPerm(await requestNotifications())}>
            {t('enableNotifications')}
          </button>
        )}
      </div>
    </section>
  );
}
