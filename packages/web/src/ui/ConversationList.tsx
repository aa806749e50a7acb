import type { AppState } from '../logic/app-state.js';
import { activeContactId, lastMessage, sortedConversations, unreadCount } from '../logic/app-state.js';
import { formatTime } from '../logic/format.js';
import { useI18n } from './i18n-context.js';

export function ConversationList({ state, onOpen }: { state: AppState; onOpen: (contactId: string) => void }) {
  const { t, locale } = useI18n();
  const list = sortedConversations(state);
  const active = activeContactId(state.view);
  if (list.length === 0) return <p class="empty muted">{t('noConversations')}</p>;
  return (
    <ul class="conversations" aria-label={t('conversations')}>
      {list.map((c) => {
        const last = lastMessage(state, c.id);
        const unread = unreadCount(state, c.id);
        return (
          <li key={c.id}>
            <button type="button" class={`conversation${c.id === active ? ' active' : ''}`} aria-current={c.id === active ? 'true' : undefined} onClick={() => onOpen(c.id)} data-testid="conversation">
              <span class="avatar" aria-hidden="true">
                {[...c.name][0]?.toUpperCase()}
              </span>
              <span class="conv-main">
                <span class="conv-top">
                  <span class="conv-name">{c.name}</span>
                  {last && <time class="muted small">{formatTime(last.sentAt, locale)}</time>}
                </span>
                <span class="conv-bottom">
                  <span class="conv-preview muted">{last ? (last.direction === 'out' ? `${t('you')}: ` : '') + (last.deleted ? t('deletedMessage') : last.text) : c.pigeonId}</span>
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
      })}
    </ul>
  );
}
