import type { DeliveryState, GroupMessage, PigeonClient } from '@pigeon/client';
import { formatBytes } from '@pigeon/client';
import type { MessageKey } from '../i18n/index.js';
import { captionOf } from '../logic/attachments.js';
import { formatFullDate, formatTime } from '../logic/format.js';
import { AttachmentBubble } from './AttachmentBubble.js';
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
 * A file (client.groups.attachment) shows as in 1:1 chats: images inline, others with Download;
 * the caption replaces the SDK's "[file] name (size)" text.
 */
export function GroupBubble({ client, m, senderName }: { client: PigeonClient; m: GroupMessage; senderName: string }) {
  const { t, locale } = useI18n();
  const info = client.groups.attachment(m.id);
  const caption = info ? captionOf(m, info, formatBytes) : '';
  return (
    <article class={`msg msg-${m.direction}`} data-testid="message" data-state={m.state} data-id={m.id} aria-label={m.direction === 'out' ? t('you') : senderName}>
      {m.direction === 'in' && (
        <p class="msg-sender" data-testid="sender" dir="auto">
          {senderName}
        </p>
      )}
      {info && <AttachmentBubble client={client} messageId={m.id} info={info} />}
      {(!info || caption !== '') && (
        <p class="msg-text" dir="auto" data-testid="message-text">
          {info ? caption : m.text}
        </p>
      )}
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
        {(!info || caption !== '') && <CopyButton text={info ? caption : m.text} class="link copy" />}
      </footer>
    </article>
  );
}
