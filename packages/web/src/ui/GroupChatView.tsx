import { useEffect, useRef, useState } from 'preact/hooks';
import type { Contact, Group, GroupMessage, PigeonClient } from '@pigeon/client';
import { MAX_TEXT_BYTES } from '@pigeon/client';
import { dayLabel, withDaySeparators } from '../logic/format.js';
import { groupErrorKey, senderNameOf } from '../logic/groups.js';
import { errorCode } from './errors.js';
import { groupUploadKey } from '../logic/attachments.js';
import { UploadBubble } from './AttachmentBubble.js';
import { FilePickButton, startGroupUpload, usePendingUploads } from './AttachButton.js';
import { GroupBubble } from './GroupBubble.js';
import { useI18n } from './i18n-context.js';

export interface GroupChatProps {
  readonly client: PigeonClient;
  readonly group: Group;
  readonly messages: readonly GroupMessage[];
  readonly contacts: readonly Contact[];
  readonly onSent: (m: GroupMessage) => void;
  readonly onInfo: () => void;
  readonly onBack: () => void;
}

const encoder = new TextEncoder();

/** A group conversation: the chat layout (log + composer) with the author named on each incoming message. */
export function GroupChatView({ client, group, messages, contacts, onSent, onInfo, onBack }: GroupChatProps) {
  const { t, locale } = useI18n();
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    headingRef.current?.focus();
    setDraft('');
    setError(null);
  }, [group.id]);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, group.id]);

  const pendingUploads = usePendingUploads(groupUploadKey(group.id));
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [pendingUploads.length]);
  const tooLong = encoder.encode(draft).length > MAX_TEXT_BYTES;
  const send = async () => {
    const text = draft.trim();
    if (text.length === 0 || tooLong || !group.active) return;
    setError(null);
    try {
      const m = await client.groups.send(group.id, text);
      setDraft('');
      onSent(m);
    } catch (err) {
      const code = errorCode(err);
      setError(t(groupErrorKey(code, 'sendFailed'), { code }));
    }
    inputRef.current?.focus();
  };
  const now = Date.now();
  return (
    <section class="chat" aria-labelledby="chat-title" data-testid="group-chat">
      <header class="pane-header">
        <button type="button" class="icon back" onClick={onBack} aria-label={t('back')}>
          ←
        </button>
        <h2 id="chat-title" tabIndex={-1} ref={headingRef}>
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
      <div class="log" role="log" aria-live="polite" aria-label={t('groupMessagesOf', { name: group.name })} ref={logRef} tabIndex={0}>
        {withDaySeparators(messages).map((item) =>
          item.kind === 'day' ? (
            <div class="day" role="separator" key={item.key}>
              <span>{dayLabel(item.day, now, locale, { today: t('today'), yesterday: t('yesterday') })}</span>
            </div>
          ) : (
            <GroupBubble client={client} m={item.message} key={item.key} senderName={senderNameOf(item.message, contacts)} />
          ),
        )}
        {pendingUploads.map((u) => (
          <UploadBubble upload={u} key={`upload-${u.id}`} />
        ))}
      </div>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label for="composer-input" class="sr-only">
          {t('groupMessageLabel', { name: group.name })}
        </label>
        <FilePickButton disabled={!group.active} onFile={(file) => startGroupUpload(client, group.id, file, onSent)} />
        <textarea
          id="composer-input"
          ref={inputRef}
          rows={1}
          placeholder={group.active ? t('messagePlaceholder') : t('groupNotMember')}
          value={draft}
          disabled={!group.active}
          aria-invalid={tooLong}
          onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={!group.active || draft.trim().length === 0 || tooLong}>
          {t('send')}
        </button>
      </form>
      {(error || tooLong) && (
        <p class="error composer-error" role="alert">
          {tooLong ? t('tooLong') : error}
        </p>
      )}
    </section>
  );
}
