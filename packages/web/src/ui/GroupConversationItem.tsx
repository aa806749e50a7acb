import type { Contact, Group } from '@pigeon/client';
import type { GroupsState } from '../logic/groups.js';
import { groupUnreadCount, lastGroupMessage, senderNameOf } from '../logic/groups.js';
import { ConversationRow } from './ConversationRow.js';
import { useI18n } from './i18n-context.js';

/** A group's row in the conversation list (the 1:1 row's look, a group avatar, the author in the preview). */
export function GroupConversationItem({ group, groups, contacts, active, onOpen }: { group: Group; groups: GroupsState; contacts: readonly Contact[]; active: boolean; onOpen: () => void }) {
  const { t } = useI18n();
  const last = lastGroupMessage(groups, group.id);
  const unread = groupUnreadCount(groups, group.id);
  const author = last ? (last.direction === 'out' ? t('you') : senderNameOf(last, contacts)) : '';
  return (
    <ConversationRow
      name={group.name}
      nameLabel={t('groupLabel')}
      kind="group"
      active={active}
      lastAt={last?.sentAt}
      preview={last ? `${author}: ${last.text}` : group.active ? t('groupMembersCount', { count: group.members.length }) : t('groupNotMember')}
      unread={unread}
      onOpen={onOpen}
    />
  );
}
