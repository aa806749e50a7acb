import type { GroupMessage, PigeonClient } from '@pigeon/client';
import { formatBytes } from '@pigeon/client';
import { captionOf } from '../logic/attachments.js';
import { AttachmentBubble } from './AttachmentBubble.js';
import { BubbleTimeAndState } from './BubbleMeta.js';
import { CopyButton } from './CopyButton.js';
import { useI18n } from './i18n-context.js';

/**
 * One group message: the 1:1 bubble's look (same classes), plus the author's name on incoming
 * messages. Groups have no replies, reactions or edits in the SDK, so there are no actions.
 * A file (client.groups.attachment) shows as in 1:1 chats: images inline, others with Download;
 * the caption replaces the SDK's "[file] name (size)" text.
 */
export function GroupBubble({ client, m, senderName }: { client: PigeonClient; m: GroupMessage; senderName: string }) {
  const { t } = useI18n();
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
        <BubbleTimeAndState sentAt={m.sentAt} direction={m.direction} state={m.state} />
        {(!info || caption !== '') && <CopyButton text={info ? caption : m.text} class="link copy" />}
      </footer>
    </article>
  );
}
