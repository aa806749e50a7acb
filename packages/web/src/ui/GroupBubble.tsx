import type { DeliveryState, GroupMessage } from '@pigeon/client';
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
const STATE_ICON: Record<DeliveryState, string> = { queued: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

/**
 * One group message: the 1:1 bubble's look (same classes), plus the author's name on incoming
 * messages. Groups have no replies, reactions or edits in the SDK, so there are no actions.
 */
export function GroupBubble({ m, senderName }: { m: GroupMessage; senderName: string }) {
  const { t, locale } = useI18n();
  return (
    <article class={`msg msg-${m.direction}`} data-testid="message" data-state={m.state} data-id={m.id} aria-label={m.direction === 'out' ? t('you') : senderName}>
      {m.direction === 'in' && (
        <p class="msg-sender" data-testid="sender" dir="auto">
          {senderName}
        </p>
      )}
      <p class="msg-text" dir="auto" data-testid="message-text">
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
