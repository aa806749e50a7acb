import { useState } from 'preact/hooks';
import type { PigeonClient, Profile, ReceiptSettings } from '@pigeon/client';
import { notificationPermission, requestNotifications } from '../notify.js';
import type { NotifyPermission } from '../notify.js';
import { DevicesPanel } from './DevicesPanel.js';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { Preferences } from './Preferences.js';
import type { PrefsProps } from './Preferences.js';

export interface SettingsProps {
  readonly client: PigeonClient;
  readonly profile: Profile;
  readonly relayUrl: string;
  readonly prefs: PrefsProps;
  readonly onBack: () => void;
}

export function SettingsPanel({ client, profile, relayUrl, prefs, onBack }: SettingsProps) {
  const { t } = useI18n();
  const [perm, setPerm] = useState<NotifyPermission>(notificationPermission());
  const [receipts, setReceipts] = useState<ReceiptSettings>(() => client.receiptSettings());
  const toggle = (key: keyof ReceiptSettings) => setReceipts(client.setReceiptSettings({ [key]: !receipts[key] }));
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
        <h3>{t('receipts')}</h3>
        <div class="toggle">
          <input id="delivery-receipts" type="checkbox" checked={receipts.deliveryReceipts} onChange={() => toggle('deliveryReceipts')} aria-describedby="delivery-receipts-hint" />
          <label for="delivery-receipts">{t('deliveryReceiptsLabel')}</label>
          <p id="delivery-receipts-hint" class="muted small">
            {t('deliveryReceiptsHint')}
          </p>
        </div>
        <div class="toggle">
          <input id="read-receipts" type="checkbox" checked={receipts.readReceipts} onChange={() => toggle('readReceipts')} aria-describedby="read-receipts-hint" />
          <label for="read-receipts">{t('readReceiptsLabel')}</label>
          <p id="read-receipts-hint" class="muted small">
            {t('readReceiptsHint')}
          </p>
        </div>
        <h3>{t('devices')}</h3>
        <DevicesPanel client={client} relayUrl={relayUrl} />
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
