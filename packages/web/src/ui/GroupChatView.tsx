import type { Contact, Group, GroupMessage, PigeonClient } from '@pigeon/client';
import { groupErrorKey, senderNameOf } from '../logic/groups.js';
import { errorCode } from './errors.js';
import { groupUploadKey } from '../logic/attachments.js';
import { FilePickButton, sendTransferredGroupFile, startGroupUpload } from './AttachButton.js';
import { Composer, useComposer } from './Composer.js';
import { GroupBubble } from './GroupBubble.js';
import { useI18n } from './i18n-context.js';
import { MessageLog } from './MessageLog.js';

export interface GroupChatProps {
  readonly client: PigeonClient;
  readonly group: Group;
  readonly messages: readonly GroupMessage[];
  readonly contacts: readonly Contact[];
  readonly onSent: (m: GroupMessage) => void;
  readonly onInfo: () => void;
  readonly onBack: () => void;
}

/** A group conversation: the chat layout (log + composer) with the author named on each incoming message. */
export function GroupChatView({ client, group, messages, contacts, onSent, onInfo, onBack }: GroupChatProps) {
  const { t } = useI18n();
  const composer = useComposer(group.id);
  const send = async (text: string) => {
    composer.setError(null);
    try {
      const m = await client.groups.send(group.id, text);
      composer.setDraft('');
      onSent(m);
    } catch (err) {
      const code = errorCode(err);
      composer.setError(t(groupErrorKey(code, 'sendFailed'), { code }));
    }
    composer.inputRef.current?.focus();
  };
  return (
    <section
      class="chat"
      aria-labelledby="chat-title"
      data-testid="group-chat"
      onDragOver={(e) => group.active && e.dataTransfer?.types.includes('Files') && e.preventDefault()}
      onDrop={(e) => {
        if (group.active && sendTransferredGroupFile(client, group.id, e.dataTransfer, onSent)) e.preventDefault();
      }}
    >
      <header class="pane-header">
        <button type="button" class="icon back" onClick={onBack} aria-label={t('back')}>
          ←
        </button>
        <h2 id="chat-title" tabIndex={-1} ref={composer.headingRef}>
          {group.name}
        </h2>
        <span class="verify-badge" data-testid="member-count">
          {t('groupMembersCount', { count: group.members.length })}
        </span>
        <button type="button" class="secondary" onClick={onInfo} data-testid="group-info">
          {t('groupInfo')}
        </button>
      </header>
      {!group.active && (
        <div class="warning" role="alert" data-testid="group-removed">
          {t('groupNotMemberBanner')}
        </div>
      )}
      <MessageLog
        conversationId={group.id}
        uploadKey={groupUploadKey(group.id)}
        label={t('groupMessagesOf', { name: group.name })}
        messages={messages}
        bubble={(m, key) => <GroupBubble client={client} m={m} key={key} senderName={senderNameOf(m, contacts)} />}
      />
      <Composer
        state={composer}
        label={t('groupMessageLabel', { name: group.name })}
        placeholder={group.active ? t('messagePlaceholder') : t('groupNotMember')}
        attach={<FilePickButton disabled={!group.active} onFile={(file) => startGroupUpload(client, group.id, file, onSent)} />}
        submitLabel={t('send')}
        disabled={!group.active}
        onSend={(text) => void send(text)}
        onPaste={(e) => {
          // A pasted image (a screenshot) is sent as a file; pasted text stays text.
          if (group.active && sendTransferredGroupFile(client, group.id, e.clipboardData, onSent)) e.preventDefault();
        }}
      />
    </section>
  );
}
