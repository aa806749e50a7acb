import type { DeliveryState } from '@pigeon/client';
import type { MessageKey } from '../i18n/index.js';
import { formatFullDate, formatTime } from '../logic/format.js';
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

/**
 * The time of a bubble and, on our own messages, the delivery tick: one look for 1:1 and group
 * bubbles (MessageBubble, GroupBubble), which put it in their footer.
 */
export function BubbleTimeAndState({ sentAt, direction, state }: { sentAt: number; direction: 'in' | 'out'; state: DeliveryState }) {
  const { t, locale } = useI18n();
  return (
    <>
      <time dateTime={new Date(sentAt).toISOString()} title={formatFullDate(sentAt, locale)}>
        {formatTime(sentAt, locale)}
      </time>
      {direction === 'out' && (
        <span class={`state state-${state}`} title={t(STATE_LABEL[state])}>
          <span aria-hidden="true">{STATE_ICON[state]}</span>
          <span class="sr-only">{t(STATE_LABEL[state])}</span>
        </span>
      )}
    </>
  );
}
