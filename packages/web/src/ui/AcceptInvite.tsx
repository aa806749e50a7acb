import { useState } from 'preact/hooks';
import type { Contact, PigeonClient } from '@pigeon/client';
import { extractGroupLink, groupErrorKey } from '../logic/groups.js';
import { extractInviteLink } from '../logic/invite-input.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { pasteOrScan, ScanButton } from './ScanButton.js';

export function AcceptInvite({ client, initial, onAccepted, onJoinGroup, onBack }: { client: PigeonClient; initial?: string; onAccepted: (c: Contact) => void; onJoinGroup?: (groupLink: string) => Promise<void>; onBack: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState(initial ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // A pasted or scanned text: a group link (pigeon://group/… or #group=…) asks to join; a contact
  // link adds a contact. A scanned code that is neither says so (it is not a typo to fix).
  const use = async (input: string, scanned: boolean) => {
    const groupLink = onJoinGroup ? extractGroupLink(input) : null;
    if (groupLink && onJoinGroup) {
      setBusy(true);
      setError(null);
      try {
        await onJoinGroup(groupLink);
      } catch (err) {
        const code = errorCode(err);
        setError(t(groupErrorKey(code, 'groupJoinFailed'), { code }));
        setBusy(false);
      }
      return;
    }
    const link = extractInviteLink(input);
    if (!link) {
      setError(scanned ? t('scanNotPigeon') : t('badLink'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onAccepted(await client.acceptInvite(link));
    } catch (err) {
      const code = errorCode(err);
      setError(code === 'BAD_LINK' ? (/own/.test(String((err as Error).message)) ? t('ownLink') : t('badLink')) : t('acceptFailed', { code }));
      setBusy(false);
    }
  };
  const { submit, scan } = pasteOrScan(text, setText, use);
  return (
    <section class="panel">
      <PaneHeader title={t('acceptTitle')} onBack={onBack} />
      <form class="panel-body" onSubmit={submit}>
        <p>{initial ? t('openedInvite') : t('acceptText')}</p>
        <label for="accept-link">{t('inviteLink')}</label>
        <textarea id="accept-link" class="mono" rows={4} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} aria-invalid={error !== null} aria-describedby={error ? 'accept-error' : undefined} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
            {busy ? t('accepting') : t('accept')}
          </button>
          <ScanButton onScan={scan} disabled={busy} />
        </div>
        {error && (
          <p class="error" role="alert" id="accept-error" data-testid="accept-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
