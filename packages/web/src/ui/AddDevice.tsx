/**
 * Settings -> Devices -> "Link a new device", on the device that holds the account key: paste the
 * new device's link code (`client.devices.add`), then compare the Pigeon ID and 6-digit code with
 * what the new device shows. The SDK has already published the new list when the codes appear,
 * so "they differ" removes the device again.
 */
import { useState } from 'preact/hooks';
import type { DeviceAdded, PigeonClient } from '@pigeon/client';
import { extractLinkCode, LINK_PROBLEM_TEXT, linkProblem } from '../logic/devices.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { pasteOrScan, ScanButton } from './ScanButton.js';

export function AddDevice({ client, relayUrl, onClose }: { client: PigeonClient; relayUrl: string; onClose: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<DeviceAdded | null>(null);

  // The pasted text, or the new device's QR code scanned (a scan that is no link code says so).
  const use = async (input: string, scanned: boolean) => {
    const code = extractLinkCode(input);
    if (!code) {
      setError(scanned ? t('scanNotPigeon') : t('linkErrBadCode'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setAdded(await client.devices.add(code));
    } catch (err) {
      const { problem, code: c } = linkProblem(err);
      setError(t(LINK_PROBLEM_TEXT[problem], { code: c }));
    } finally {
      setBusy(false);
    }
  };
  const { submit, scan } = pasteOrScan(text, setText, use);

  const removeAgain = async (deviceId: string) => {
    setBusy(true);
    try {
      await client.devices.remove(deviceId);
      onClose();
    } catch (err) {
      setError(t('actionFailed', { code: errorCode(err) }));
      setBusy(false);
    }
  };

  if (added) {
    return (
      <div class="add-device" role="alertdialog" aria-labelledby="added-title" aria-describedby="added-text" data-testid="device-added">
        <h4 id="added-title">{t('addedTitle')}</h4>
        <p id="added-text">{t('addedText')}</p>
        <dl class="facts">
          <dt>{t('linkAccount')}</dt>
          <dd>
            <code data-testid="added-pigeon-id">{added.pigeonId}</code>
          </dd>
          <dt>{t('linkConfirmationCode')}</dt>
          <dd>
            <strong class="confirmation-code mono" data-testid="added-confirmation-code">
              {added.confirmationCode}
            </strong>
          </dd>
        </dl>
        <div class="row">
          <button type="button" class="primary" onClick={onClose} disabled={busy}>
            {t('addedMatch')}
          </button>
          <button type="button" class="danger" onClick={() => void removeAgain(added.deviceId)} disabled={busy}>
            {t('addedMismatch')}
          </button>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
    );
  }
  return (
    <form class="add-device" onSubmit={submit} data-testid="add-device">
      <p>{t('addDeviceText', { relay: relayUrl })}</p>
      <label for="add-device-code">{t('addDeviceCode')}</label>
      <textarea
        id="add-device-code"
        class="mono"
        rows={3}
        value={text}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        aria-invalid={error !== null}
        aria-describedby={error ? 'add-device-error' : undefined}
      />
      <div class="row">
        <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
          {busy ? t('linking') : t('addDevice')}
        </button>
        <ScanButton onScan={scan} disabled={busy} />
        <button type="button" class="secondary" onClick={onClose} disabled={busy}>
          {t('cancel')}
        </button>
      </div>
      {error && (
        <p class="error" role="alert" id="add-device-error" data-testid="add-device-error">
          {error}
        </p>
      )}
    </form>
  );
}
