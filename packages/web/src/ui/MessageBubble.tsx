import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { StoredMessage } from '@pigeon/client';
import { QUICK_REACTIONS, groupReactions } from '../logic/life.js';
import { BubbleTimeAndState } from './BubbleMeta.js';
import { CopyButton } from './CopyButton.js';
import { useI18n } from './i18n-context.js';

/** What the user can do with a message (message life); absent = a read-only bubble. */
export interface MessageActions {
  /** Our account id: marks our own reaction. */
  readonly me: string;
  onReply(m: StoredMessage): void;
  onReact(m: StoredMessage, emoji: string | null): void;
  onEdit(m: StoredMessage): void;
  onDelete(m: StoredMessage): void;
}

/** A message that carries a file: its bubble (ui/AttachmentBubble.tsx) and the caption shown instead of the text. */
export interface BubbleAttachment {
  readonly node: ComponentChildren;
  readonly caption: string;
}

export function MessageBubble({ m, actions, attachment }: { m: StoredMessage; actions?: MessageActions; attachment?: BubbleAttachment }) {
  const { t } = useI18n();
  const [picking, setPicking] = useState(false);
  const groups = groupReactions(m.reactions, actions?.me ?? '');
  const mine = groups.find((g) => g.mine);
  return (
    <article class={`msg msg-${m.direction}${m.deleted ? ' msg-deleted' : ''}`} data-testid="message" data-state={m.state} data-id={m.id} aria-label={m.direction === 'out' ? t('you') : undefined}>
      {m.replyTo && !m.deleted && (
        <blockquote class="msg-quote" data-testid="quote" dir="auto">
          {m.quote}
        </blockquote>
      )}
      {attachment && !m.deleted && attachment.node}
      {(!attachment || m.deleted || attachment.caption !== '') && (
        <p class="msg-text" dir="auto" data-testid="message-text">
          {m.deleted ? <em>{t('deletedMessage')}</em> : attachment ? attachment.caption : m.text}
        </p>
      )}
      {groups.length > 0 && (
        <div class="reactions" data-testid="reactions">
          {groups.map((g) => (
            <span class={`reaction${g.mine ? ' mine' : ''}`} key={g.emoji}>
              {g.emoji}
              {g.count > 1 ? ` ${g.count}` : ''}
            </span>
          ))}
        </div>
      )}
      <footer class="msg-meta">
        {m.edited && !m.deleted && <span class="edited" data-testid="edited">{t('edited')}</span>}
        {m.timerMs ? (
          <span title={t('disappearing')} data-testid="disappearing">
            ⏱
          </span>
        ) : null}
        <BubbleTimeAndState sentAt={m.sentAt} direction={m.direction} state={m.state} />
        {/* A file's message text is only its summary line: copy the caption, if there is one. */}
        {!m.deleted && (!attachment || attachment.caption !== '') && <CopyButton text={attachment ? attachment.caption : m.text} class="link copy" />}
        {actions && !m.deleted && (
          <>
            <button type="button" class="link" data-testid="reply" onClick={() => actions.onReply(m)}>
              {t('reply')}
            </button>
            <button type="button" class="link" data-testid="react" aria-expanded={picking} onClick={() => setPicking(!picking)}>
              {t('react')}
            </button>
            {m.direction === 'out' && (
              <>
                {/* Edits replace text; a file message's reference cannot be edited (the SDK edits text only). */}
                {!attachment && (
                  <button type="button" class="link" data-testid="edit" onClick={() => actions.onEdit(m)}>
                    {t('edit')}
                  </button>
                )}
                <button type="button" class="link" data-testid="delete" onClick={() => actions.onDelete(m)}>
                  {t('deleteForEveryone')}
                </button>
              </>
            )}
          </>
        )}
      </footer>
      {actions && picking && (
        <div class="reaction-picker" role="group" aria-label={t('chooseReaction')} data-testid="reaction-picker">
          {QUICK_REACTIONS.map((e) => (
            <button
              type="button"
              class="icon"
              key={e}
              onClick={() => {
                setPicking(false);
                actions.onReact(m, e);
              }}
            >
              {e}
            </button>
          ))}
          {mine && (
            <button
              type="button"
              class="link"
              onClick={() => {
                setPicking(false);
                actions.onReact(m, null);
              }}
            >
              {t('removeReaction')}
            </button>
          )}
        </div>
      )}
    </article>
  );
}
