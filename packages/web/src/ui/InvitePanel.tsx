import { useEffect, useState } from 'preact/hooks';
import type { PigeonClient } from '@pigeon/client';
import { webInviteLink } from '../logic/invite-input.js';
import { CopyButton } from './CopyButton.js';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { Qr } from './Qr.js';

export function InvitePanel({ client, appUrl, onBack }: { client: PigeonClient; appUrl: string; onBack: () => void }) {
  const { t } = useI18n();
  const [link, setLink] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    client.createInvite().then((r) => live && setLink(webInviteLink(r.link, appUrl)));
    return () => {
      live = false;
    };
  }, [n]);
  const profile = client.profile();
  return (
    <section class="panel" aria-labelledby="invite-title">
      <PaneHeader title={t('yourInvite')} onBack={onBack} />
      <div class="panel-body">
        <p>{t('inviteText')}</p>
        {link && (
          <>
            <Qr data={link} label={t('inviteQr')} />
            <label for="invite-link">{t('inviteLink')}</label>
            <textarea id="invite-link" class="mono" readOnly rows={3} value={link} data-testid="invite-link" onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()} />
            <div class="row">
              <CopyButton text={link} class="primary" />
              <button type="button" class="secondary" onClick={() => setN(n + 1)}>
                {t('newInvite')}
              </button>
            </div>
          </>
        )}
        <p class="muted small">
          {t('yourId')}: <code data-testid="pigeon-id">{profile.pigeonId}</code>
        </p>
      </div>
    </section>
  );
}
