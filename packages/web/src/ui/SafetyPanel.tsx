import { useEffect, useState } from 'preact/hooks';
import type { Contact, PigeonClient, SafetyNumber } from '@pigeon/client';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { Qr } from './Qr.js';

export function SafetyPanel({ client, contact, onChanged, onBack }: { client: PigeonClient; contact: Contact; onChanged: (c: Contact) => void; onBack: () => void }) {
  const { t } = useI18n();
  const [sn, setSn] = useState<SafetyNumber | null>(null);
  useEffect(() => {
    let live = true;
    client.safetyNumber(contact.id).then((s) => live && setSn(s));
    return () => {
      live = false;
    };
  }, [contact.id]);
  const toggle = () => {
    client.setVerified(contact.id, !contact.verified);
    onChanged({ ...contact, verified: !contact.verified });
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
        <button type="button" class={contact.verified ? 'secondary' : 'primary'} onClick={toggle}>
          {contact.verified ? t('markUnverified') : t('markVerified')}
        </button>
      </div>
    </section>
  );
}
