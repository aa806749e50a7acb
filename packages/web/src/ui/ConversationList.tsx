import type { AppState } from '../logic/app-state.js';
import { activeContactId, lastMessage, sortedConversations, unreadCount } from '../logic/app-state.js';
import { initialGroupsState, mixConversations } from '../logic/groups.js';
import type { GroupsState } from '../logic/groups.js';
import { ConversationRow } from './ConversationRow.js';
import { GroupConversationItem } from './GroupConversationItem.js';
import { useI18n } from './i18n-context.js';

export function ConversationList({ state, onOpen, groups = initialGroupsState, onOpenGroup = () => undefined }: { state: AppState; onOpen: (contactId: string) => void; groups?: GroupsState; onOpenGroup?: (groupId: string) => void }) {
  const { t } = useI18n();
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
          <ConversationRow
            key={c.id}
            name={c.name}
            active={c.id === active}
            lastAt={last?.sentAt}
            preview={last ? (last.direction === 'out' ? `${t('you')}: ` : '') + (last.deleted ? t('deletedMessage') : last.text) : c.pigeonId}
            unread={unread}
            onOpen={() => onOpen(c.id)}
          />
        );
      })}
    </ul>
  );
}
