/**
 * Settings -> Devices: the devices of this account from its signed list (`client.devices.list()`),
 * refreshed on the SDK's `changed` event (a device linked or removed, here or on the account-key
 * device). Linking and removing are offered only where the account key is; a linked device says
 * where to do it instead.
 */
import { useEffect, useState } from 'preact/hooks';
import type { DeviceInfo, PigeonClient } from '@pigeon/client';
import { canManageDevices, formatLinkedAt, shortDeviceId, sortDevices } from '../logic/devices.js';
import { AddDevice } from './AddDevice.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';

export function DevicesPanel({ client, relayUrl }: { client: PigeonClient; relayUrl: string }) {
  const { t, locale } = useI18n();
  const [devices, setDevices] = useState<DeviceInfo[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      client.devices.list().then(
        (list) => live && setDevices(sortDevices(list)),
        (err: unknown) => live && setError(t('actionFailed', { code: errorCode(err) })),
      );
    void load();
    const off = client.devices.on('changed', () => void load());
    return () => {
      live = false;
      off();
    };
  }, []);

  // The SDK keeps no device names: others are named by their id, this one is "This browser".
  const nameOf = (d: DeviceInfo) => (d.current ? t('thisBrowser') : t('deviceNamed', { id: shortDeviceId(d.id) }));
  const details = (d: DeviceInfo) => [
    ...(d.current ? [shortDeviceId(d.id)] : []),
    ...(d.accountKeyHolder ? [t('deviceHoldsKey')] : []),
    ...(d.addedAt > 0 ? [t('deviceLinkedAt', { date: formatLinkedAt(d.addedAt, locale) })] : []),
  ];
  const remove = async (d: DeviceInfo) => {
    setBusy(true);
    setError(null);
    try {
      setDevices(sortDevices(await client.devices.remove(d.id)));
      setConfirming(null);
    } catch (err) {
      setError(t('actionFailed', { code: errorCode(err) }));
    } finally {
      setBusy(false);
    }
  };

  if (devices === null) return <p aria-busy="true">{error ?? t('devicesLoading')}</p>;
  const manage = canManageDevices(devices);
  return (
    <div class="devices" data-testid="devices-panel">
      <ul class="device-list">
        {devices.map((d) => (
          <li key={d.id} class={`device${d.current ? ' current' : ''}`} data-testid="device-row" data-current={String(d.current)} data-device-id={d.id}>
            <div class="device-main">
              <span class="device-name">{nameOf(d)}</span>
              <span class="muted small">{details(d).join(' · ')}</span>
            </div>
            {manage && !d.current && confirming !== d.id && (
              <button type="button" class="danger" onClick={() => setConfirming(d.id)} aria-label={t('removeDeviceNamed', { name: nameOf(d) })}>
                {t('removeDevice')}
              </button>
            )}
            {confirming === d.id && (
              <div class="confirm" role="alertdialog" aria-labelledby={`confirm-${d.id}`}>
                <p id={`confirm-${d.id}`}>{t('confirmRemoveDevice', { name: nameOf(d) })}</p>
                <div class="row">
                  <button type="button" class="danger" onClick={() => void remove(d)} disabled={busy}>
                    {busy ? t('removing') : t('removeDevice')}
                  </button>
                  <button type="button" class="secondary" onClick={() => setConfirming(null)} disabled={busy}>
                    {t('cancel')}
                  </button>
                </div>
              </div>
            )}
          </li>
        ))}
      </ul>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {manage ? (
        adding ? (
          <AddDevice client={client} relayUrl={relayUrl} onClose={() => setAdding(false)} />
        ) : (
          <button type="button" class="secondary" onClick={() => setAdding(true)}>
            {t('linkNewDevice')}
          </button>
        )
      ) : (
        <p class="muted" data-testid="manage-from-primary">
          {t('manageFromPrimary')}
        </p>
      )}
    </div>
  );
}
