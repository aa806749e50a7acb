import { useEffect, useState } from 'preact/hooks';
import type { Contact, PigeonClient, SafetyNumber } from '@pigeon/client';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { Qr } from './Qr.js';
import { ScanButton } from './ScanButton.js';

/** What scanning the contact's safety-number QR code showed. */
type ScanOutcome = 'match' | 'mismatch' | 'not-safety';

export function SafetyPanel({ client, contact, onChanged, onBack }: { client: PigeonClient; contact: Contact; onChanged: (c: Contact) => void; onBack: () => void }) {
  const { t } = useI18n();
  const [sn, setSn] = useState<SafetyNumber | null>(null);
  const [outcome, setOutcome] = useState<ScanOutcome | null>(null);
  useEffect(() => {
    let live = true;
    setOutcome(null);
    client.safetyNumber(contact.id).then((s) => live && setSn(s));
    return () => {
      live = false;
    };
  }, [contact.id]);
  const setVerified = (verified: boolean) => {
    client.setVerified(contact.id, verified);
    onChanged({ ...contact, verified });
  };
  const toggle = () => {
    setOutcome(null);
    setVerified(!contact.verified);
  };
  // The scanned bytes are compared by the SDK (the protocol's own check); only a match verifies.
  const scanned = async ({ bytes }: { bytes: Uint8Array }) => {
    let next: ScanOutcome;
    try {
      next = (await client.verifySafetyNumberQr(contact.id, bytes)) ? 'match' : 'mismatch';
    } catch {
      next = 'not-safety';
    }
    if (next === 'match' && !contact.verified) setVerified(true);
    setOutcome(next);
  };
  return (
    <section class="panel">
      <PaneHeader title={t('safetyTitle', { name: contact.name })} onBack={onBack} />
      <div class="panel-body">
        <p>{t('safetyText', { name: contact.name })}</p>
        {sn && (
          <>
            <p class="safety-digits mono" data-testid="safety-digits" aria-label={sn.display.split(' ').join(', ')}>
              {sn.display.split(' ').map((g, i) => (
                <span key={i}>{g}</span>
              ))}
            </p>
            <Qr data={sn.qrPayload} label={t('safetyQr')} size={180} />
          </>
        )}
        <p>
          <span class={`verify-badge ${contact.verified ? 'ok' : ''}`} data-testid="verified-state">
            {contact.verified ? t('verified') : t('unverified')}
          </span>
        </p>
        <div class="row">
          <button type="button" class={contact.verified ? 'secondary' : 'primary'} onClick={toggle}>
            {contact.verified ? t('markUnverified') : t('markVerified')}
          </button>
          <ScanButton needBytes label={t('scanTheirCode')} onScan={(r) => void scanned(r)} />
        </div>
        {outcome && (
          <p class={outcome === 'match' ? 'ok' : 'error'} role={outcome === 'match' ? 'status' : 'alert'} data-testid="safety-scan-result" data-outcome={outcome}>
            {outcome === 'match' ? t('safetyScanMatch', { name: contact.name }) : outcome === 'mismatch' ? t('safetyScanMismatch', { name: contact.name }) : t('scanNotSafety')}
          </p>
        )}
      </div>
    </section>
  );
}
