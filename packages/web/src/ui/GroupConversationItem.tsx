import type { Contact, Group } from '@pigeon/client';
import { formatTime } from '../logic/format.js';
import type { GroupsState } from '../logic/groups.js';
import { groupUnreadCount, lastGroupMessage, senderNameOf } from '../logic/groups.js';
import { useI18n } from './i18n-context.js';

/** A group's row in the conversation list (the 1:1 row's look, a group avatar, the author in the preview). */
export function GroupConversationItem({ group, groups, contacts, active, onOpen }: { group: Group; groups: GroupsState; contacts: readonly Contact[]; active: boolean; onOpen: () => void }) {
  const { t, locale } = useI18n();
  const last = lastGroupMessage(groups, group.id);
  const unread = groupUnreadCount(groups, group.id);
  const author = last ? (last.direction === 'out' ? t('you') : senderNameOf(last, contacts)) : '';
  return (
    <li>
      <button type="button" class={`conversation${active ? ' active' : ''}`} aria-current={active ? 'true' : undefined} onClick={onOpen} data-testid="conversation" data-kind="group">
        <span class="avatar avatar-group" aria-hidden="true">
          {[...group.name][0]?.toUpperCase()}
        </span>
        <span class="conv-main">
          <span class="conv-top">
            <span class="conv-name">
              <span class="sr-only">{t('groupLabel')}: </span>
              {group.name}
            </span>
            {last && <time class="muted small">{formatTime(last.sentAt, locale)}</time>}
          </span>
          <span class="conv-bottom">
            <span class="conv-preview muted">{last ? `${author}: ${last.text}` : group.active ? t('groupMembersCount', { count: group.members.length }) : t('groupNotMember')}</span>
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
