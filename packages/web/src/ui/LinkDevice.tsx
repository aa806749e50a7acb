/**
 * Onboarding, "Link to an existing account": this browser is the NEW device (SDK
 * `client.devices.startLink`). It shows the link code (text + QR); the account-key device pastes
 * it (`devices.add`), then both show the Pigeon ID and a 6-digit code, and this browser registers
 * (`confirm()`) only after the person said they match.
 */
import { useEffect, useState } from 'preact/hooks';
import type { LinkedAccount, LinkSession, PigeonClient, Profile } from '@pigeon/client';
import { LINK_PROBLEM_TEXT, linkProblem } from '../logic/devices.js';
import type { LinkProblem } from '../logic/devices.js';
import { CopyButton } from './CopyButton.js';
import { useI18n } from './i18n-context.js';
import { Qr } from './Qr.js';

/** How long to wait for the relay after registering, before telling our other devices (hello). */
const ANNOUNCE_CONNECT_MS = 10_000;

type Phase =
  | { readonly name: 'starting' }
  | { readonly name: 'waiting'; readonly session: LinkSession }
  | { readonly name: 'compare'; readonly session: LinkSession; readonly account: LinkedAccount }
  | { readonly name: 'linking' }
  | { readonly name: 'failed'; readonly problem: LinkProblem; readonly code: string };

export function LinkDevice({ client, relayUrl, onLinked, onCancel }: { client: PigeonClient; relayUrl: string; onLinked: (p: Profile) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const [phase, setPhase] = useState<Phase>({ name: 'starting' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    let session: LinkSession | null = null;
    const fail = (err: unknown) => live && setPhase({ name: 'failed', ...linkProblem(err) });
    setPhase({ name: 'starting' });
    client.devices.startLink({ relayUrl }).then((s) => {
      session = s;
      if (!live) return s.cancel();
      setPhase({ name: 'waiting', session: s });
      s.account.then((account) => live && setPhase({ name: 'compare', session: s, account }), fail);
    }, fail);
    // Leaving the screen (or starting again) closes the provisioning mailbox socket; after the
    // other device answered the channel is already closed and cancel() changes nothing.
    return () => {
      live = false;
      session?.cancel();
    };
  }, [attempt]);

  const confirm = async (session: LinkSession) => {
    setPhase({ name: 'linking' });
    try {
      const profile = await session.confirm();
      // Like `pigeon link`: connect, then say hello so the account-key device adds us to its groups.
      await client.connect({ timeoutMs: ANNOUNCE_CONNECT_MS }).catch(() => undefined);
      await client.devices.announce().catch(() => undefined);
      onLinked(profile);
    } catch (err) {
      setPhase({ name: 'failed', ...linkProblem(err) });
    }
  };
  const reject = (session: LinkSession) => {
    session.cancel();
    setPhase({ name: 'failed', problem: 'cancelled', code: 'CLOSED' });
  };

  return (
    <section class="link-device" aria-labelledby="link-title" data-testid="link-device">
      <h2 id="link-title">{t('linkTitle')}</h2>
      {phase.name === 'starting' && <p aria-busy="true">{t('linkStarting')}</p>}
      {phase.name === 'waiting' && (
        <>
          <p>{t('linkShowCode')}</p>
          <Qr data={phase.session.linkCode} label={t('linkQr')} size={260} />
          <label for="link-code">{t('linkCode')}</label>
          <textarea id="link-code" class="mono" readOnly rows={4} value={phase.session.linkCode} data-testid="link-code" onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()} />
          <div class="row">
            <CopyButton text={phase.session.linkCode} class="primary" />
          </div>
          <p class="muted small">{t('linkCliHint')}</p>
          <p role="status" class="muted">
            {t('linkWaiting')}
          </p>
        </>
      )}
      {phase.name === 'compare' && (
        <div role="alertdialog" aria-labelledby="link-compare-title" aria-describedby="link-compare-text">
          <h3 id="link-compare-title">{t('linkCompareTitle')}</h3>
          <p id="link-compare-text">{t('linkCompareText')}</p>
          <dl class="facts">
            <dt>{t('linkAccount')}</dt>
            <dd>
              {phase.account.displayName} <code data-testid="link-pigeon-id">{phase.account.pigeonId}</code>
            </dd>
            <dt>{t('linkConfirmationCode')}</dt>
            <dd>
              <strong class="confirmation-code mono" data-testid="link-confirmation-code">
                {phase.account.confirmationCode}
              </strong>
            </dd>
          </dl>
          <div class="row">
            <button type="button" class="primary" onClick={() => void confirm(phase.session)}>
              {t('linkCodesMatch')}
            </button>
            <button type="button" class="secondary" onClick={() => reject(phase.session)}>
              {t('linkCodesDiffer')}
            </button>
          </div>
        </div>
      )}
      {phase.name === 'linking' && <p aria-busy="true">{t('linking')}</p>}
      {phase.name === 'failed' && (
        <>
          <p class="error" role="alert" data-testid="link-error" data-problem={phase.problem}>
            {t(LINK_PROBLEM_TEXT[phase.problem], { code: phase.code })}
          </p>
          <button type="button" class="primary" onClick={() => setAttempt(attempt + 1)}>
            {t('linkAgain')}
          </button>
        </>
      )}
      <button type="button" class="link" onClick={onCancel} disabled={phase.name === 'linking'}>
        {t('createInstead')}
      </button>
    </section>
  );
}
