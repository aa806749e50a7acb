import type { DeliveryState, StoredMessage } from '@pigeon/client';
import type { MessageKey } from '../i18n/index.js';
import { formatFullDate, formatTime } from '../logic/format.js';
import { CopyButton } from './CopyButton.js';
import { useI18n } from './i18n-context.js';

const STATE_LABEL: Record<DeliveryState, MessageKey> = {
  queued: 'stateQueued',
  sent: 'stateSent',
  delivered: 'stateDelivered',
  read: 'stateRead',
  failed: 'stateFailed',
};
/** ✓ at the relay, ✓✓ on their device; read is ✓✓ in the accent colour (styles.css .state-read). */
const STATE_ICON: Record<DeliveryState, string> = { queued: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

export function MessageBubble({ m }: { m: StoredMessage }) {
  const { t, locale } = useI18n();
  return (
    <article class={`msg msg-${m.direction}`} data-testid="message" data-state={m.state} aria-label={m.direction === 'out' ? t('you') : undefined}>
      <p class="msg-text" dir="auto">
        {m.text}
      </p>
      <footer class="msg-meta">
        <time dateTime={new Date(m.sentAt).toISOString()} title={formatFullDate(m.sentAt, locale)}>
          {formatTime(m.sentAt, locale)}
        </time>
        {m.direction === 'out' && (
          <span class={`state state-${m.state}`} title={t(STATE_LABEL[m.state])}>
            <span aria-hidden="true">{STATE_ICON[m.state]}</span>
            <span class="sr-only">{t(STATE_LABEL[m.state])}</span>
          </span>
        )}
        <CopyButton text={m.text} class="link copy" />
      </footer>
    </article>
  );
}
