import type { AppState } from '../logic/app-state.js';
import { activeContactId, lastMessage, sortedConversations, unreadCount } from '../logic/app-state.js';
import { formatTime } from '../logic/format.js';
import { initialGroupsState, mixConversations } from '../logic/groups.js';
import type { GroupsState } from '../logic/groups.js';
import { GroupConversationItem } from './GroupConversationItem.js';
import { useI18n } from './i18n-context.js';

export function ConversationList({ state, onOpen, groups = initialGroupsState, onOpenGroup = () => undefined }: { state: AppState; onOpen: (contactId: string) => void; groups?: GroupsState; onOpenGroup?: (groupId: string) => void }) {
  const { t, locale } = useI18n();
  // Groups and 1:1 chats in one list, most recent activity first.
  const list = mixConversations(sortedConversations(state).map((contact) => ({ contact, at: lastMessage(state, contact.id)?.sentAt ?? contact.addedAt })), groups);
  const active = activeContactId(state.view);
  const activeGroup = state.view.name === 'group' || state.view.name === 'group-info' ? state.view.groupId : null;
  if (list.length === 0) return <p class="empty muted">{t('noConversations')}</p>;
  return (
    <ul class="conversations" aria-label={t('conversations')}>
      {list.map((item) => {
        if (item.kind === 'group') {
          const g = item.group;
          return <GroupConversationItem key={`g:${g.id}`} group={g} groups={groups} contacts={state.contacts} active={g.id === activeGroup} onOpen={() => onOpenGroup(g.id)} />;
        }
        const c = item.contact;
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
