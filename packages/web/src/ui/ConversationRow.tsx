import type { ComponentChildren } from 'preact';
import { formatTime } from '../logic/format.js';
import { useI18n } from './i18n-context.js';

export interface ConversationRowProps {
  readonly name: string;
  /** Shown before the name for screen readers only (a group says it is one). */
  readonly nameLabel?: string;
  /** `group` marks a group's row (data-kind, the group avatar); absent for a 1:1 chat. */
  readonly kind?: 'group';
  readonly active: boolean;
  /** When the last message was sent; absent = no time shown. */
  readonly lastAt?: number | undefined;
  readonly preview: ComponentChildren;
  readonly unread: number;
  readonly onOpen: () => void;
}

/** One row of the conversation list, the same look for 1:1 chats and groups (ConversationList, GroupConversationItem). */
export function ConversationRow({ name, nameLabel, kind, active, lastAt, preview, unread, onOpen }: ConversationRowProps) {
  const { t, locale } = useI18n();
  return (
    <li>
      <button type="button" class={`conversation${active ? ' active' : ''}`} aria-current={active ? 'true' : undefined} onClick={onOpen} data-testid="conversation" data-kind={kind}>
        <span class={kind === 'group' ? 'avatar avatar-group' : 'avatar'} aria-hidden="true">
          {[...name][0]?.toUpperCase()}
        </span>
        <span class="conv-main">
          <span class="conv-top">
            <span class="conv-name">
              {nameLabel !== undefined && <span class="sr-only">{nameLabel}: </span>}
              {name}
            </span>
            {lastAt !== undefined && <time class="muted small">{formatTime(lastAt, locale)}</time>}
          </span>
          <span class="conv-bottom">
            <span class="conv-preview muted">{preview}</span>
            {unread > 0 && (
              <span class="badge" aria-label={t('unreadCount', { count: unread })} data-testid="unread">
                {unread}
              </span>
            )}
          </span>
        </span>
      </button>
    </li>
  );
}
