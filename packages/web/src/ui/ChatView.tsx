import { useEffect, useRef, useState } from 'preact/hooks';
import type { Contact, PigeonClient, StoredMessage } from '@pigeon/client';
import type { KeyChangeWarning } from '../logic/key-change.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { MessageBubble } from './MessageBubble.js';
import type { MessageActions } from './MessageBubble.js';
import { TIMER_CHOICES, TYPING_IDLE_MS, timerLabel } from '../logic/life.js';
import { attachmentOf } from './AttachmentBubble.js';
import { AttachButton, sendTransferredFile } from './AttachButton.js';
import { Composer, useComposer } from './Composer.js';
import { MessageLog } from './MessageLog.js';

export interface ChatProps {
  readonly client: PigeonClient;
  readonly contact: Contact;
  readonly messages: readonly StoredMessage[];
  readonly warning: KeyChangeWarning | null;
  readonly onSent: (m: StoredMessage) => void;
  readonly onSafety: () => void;
  readonly onDismissWarning: () => void;
  /** The contact's keys changed (Contact.keyChanged) and the user accepts it. */
  readonly onAcknowledgeKeyChange: () => void;
  readonly onBack: () => void;
  /** Message life: the contact is typing; a message changed (edit, reaction, delete) and the list should be reloaded. */
  readonly typing?: boolean;
  readonly onChanged?: () => void;
}

export function ChatView({ client, contact, messages, warning, onSent, onSafety, onDismissWarning, onAcknowledgeKeyChange, onBack, typing = false, onChanged = () => undefined }: ChatProps) {
  const { t } = useI18n();
  const composer = useComposer(contact.id);
  const { draft, setDraft, setError, inputRef } = composer;
  const [replyTo, setReplyTo] = useState<StoredMessage | null>(null);
  const [editing, setEditing] = useState<StoredMessage | null>(null);
  const [timerMs, setTimerMs] = useState(() => client.disappearingTimer(contact.id));
  const [blocked, setBlocked] = useState(() => client.blockedContacts().some((b) => b.contactId === contact.id));
  const idleRef = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    setTimerMs(client.disappearingTimer(contact.id));
    setBlocked(client.blockedContacts().some((b) => b.contactId === contact.id));
    setReplyTo(null);
    setEditing(null);
    return client.on('update', (u) => {
      if (u.contactId === contact.id && u.kind === 'timer') setTimerMs(u.timerMs ?? 0);
    });
  }, [contact.id]);
  const fail = (err: unknown) => setError(t('actionFailed', { code: errorCode(err) }));
  const stopTyping = () => {
    if (idleRef.current) clearTimeout(idleRef.current);
    idleRef.current = null;
    void client.sendTyping(contact.id, false).catch(() => undefined);
  };
  const typed = (value: string) => {
    setDraft(value);
    if (editing || value.trim() === '') return;
    // The SDK sends at most one 'start' per TYPING_MIN_INTERVAL_MS; 'stop' after a pause.
    void client.sendTyping(contact.id, true).catch(() => undefined);
    if (idleRef.current) clearTimeout(idleRef.current);
    idleRef.current = setTimeout(stopTyping, TYPING_IDLE_MS);
  };
  const actions: MessageActions = {
    me: client.profile().accountId,
    onReply: (m) => {
      setEditing(null);
      setReplyTo(m);
      inputRef.current?.focus();
    },
    onReact: (m, emoji) => {
      client.react(m.id, emoji).then(onChanged, fail);
    },
    onEdit: (m) => {
      setReplyTo(null);
      setEditing(m);
      setDraft(m.text);
      inputRef.current?.focus();
    },
    onDelete: (m) => {
      client.deleteForEveryone(m.id).then(onChanged, fail);
    },
  };
  const send = async (text: string) => {
    setError(null);
    if (idleRef.current) {
      clearTimeout(idleRef.current);
      idleRef.current = null;
    }
    try {
      if (editing) {
        await client.edit(editing.id, text);
        setEditing(null);
        setDraft('');
        onChanged();
      } else {
        const m = replyTo ? await client.reply(replyTo.id, text) : await client.send(contact.id, text);
        setReplyTo(null);
        setDraft('');
        onSent(m);
      }
    } catch (err) {
      setError(errorCode(err) === 'IDENTITY_CHANGED' ? t('identityChangedSend') : t('sendFailed', { code: errorCode(err) }));
    }
    inputRef.current?.focus();
  };
  const sendFileBlocked = contact.keyChanged || blocked;
  return (
    <section
      class="chat"
      aria-labelledby="chat-title"
      onDragOver={(e) => !sendFileBlocked && e.dataTransfer?.types.includes('Files') && e.preventDefault()}
      onDrop={(e) => {
        if (!sendFileBlocked && sendTransferredFile(client, contact.id, e.dataTransfer, onSent)) e.preventDefault();
      }}
    >
      <header class="pane-header">
        <button type="button" class="icon back" onClick={onBack} aria-label={t('back')}>
          ←
        </button>
        <h2 id="chat-title" tabIndex={-1} ref={composer.headingRef}>
          {contact.name}
        </h2>
        <span class={`verify-badge ${contact.verified ? 'ok' : ''}`}>{contact.verified ? t('verified') : t('unverified')}</span>
        <button type="button" class="secondary" onClick={onSafety}>
          {t('safetyNumber')}
        </button>
      </header>
      <div class="chat-tools">
        <label>
          {t('disappearing')}{' '}
          <select
            data-testid="timer-select"
            value={String(timerMs)}
            onChange={(e) => {
              const ms = Number((e.currentTarget as HTMLSelectElement).value);
              client.setDisappearingTimer(contact.id, ms).then(setTimerMs, fail);
            }}
          >
            {(TIMER_CHOICES.some((c) => c.ms === timerMs) ? TIMER_CHOICES : [...TIMER_CHOICES, { ms: timerMs, label: '' }]).map((c) => (
              <option value={String(c.ms)} key={c.ms}>
                {timerLabel(c.ms, t('timerOff'))}
              </option>
            ))}
          </select>
        </label>
        {blocked ? (
          <button type="button" class="link" data-testid="unblock" onClick={() => client.unblock(contact.id).then(() => setBlocked(false), fail)}>
            {t('blocked')} · {t('unblock')}
          </button>
        ) : (
          <>
            <button type="button" class="link" data-testid="block" onClick={() => confirm(t('confirmBlock', { name: contact.name })) && client.block(contact.id).then(() => setBlocked(true), fail)}>
              {t('block')}
            </button>
            <button type="button" class="link" data-testid="report" onClick={() => confirm(t('confirmReport', { name: contact.name })) && client.report(contact.id).then(() => setBlocked(true), fail)}>
              {t('report')}
            </button>
          </>
        )}
      </div>
      {contact.keyChanged && (
        <div class="warning" role="alert" data-testid="identity-warning">
          <strong>{t('identityChangedTitle', { name: contact.name })}</strong>
          <p>{t('identityChangedText', { name: contact.name })}</p>
          <div class="row">
            <button type="button" class="secondary" onClick={onSafety}>
              {t('checkSafety')}
            </button>
            <button
              type="button"
              class="primary"
              onClick={() => {
                setError(null);
                onAcknowledgeKeyChange();
              }}
            >
              {t('acknowledge')}
            </button>
          </div>
        </div>
      )}
      {warning && (
        <div class="warning" role="alert" data-testid="key-warning">
          <strong>{t('keyChangeTitle', { name: contact.name })}</strong>
          <p>{t('keyChangeText', { name: contact.name })}</p>
          <div class="row">
            <button type="button" class="primary" onClick={onSafety}>
              {t('checkSafety')}
            </button>
            <button type="button" class="secondary" onClick={onDismissWarning}>
              {t('dismiss')}
            </button>
          </div>
        </div>
      )}
      <MessageLog
        conversationId={contact.id}
        uploadKey={contact.id}
        label={t('messagesOf', { name: contact.name })}
        messages={messages}
        bubble={(m, key) => <MessageBubble m={m} key={key} actions={actions} attachment={attachmentOf(client, m)} />}
      />
      <p class="typing" aria-live="polite" data-testid="typing">
        {typing ? t('isTyping', { name: contact.name }) : ''}
      </p>
      {(replyTo || editing) && (
        <div class="composer-context" data-testid={editing ? 'editing' : 'replying'}>
          <span>{editing ? t('editing') : t('replyingTo', { quote: replyTo!.text })}</span>
          <button
            type="button"
            class="link"
            onClick={() => {
              if (editing) setDraft('');
              setReplyTo(null);
              setEditing(null);
            }}
          >
            {t('cancel')}
          </button>
        </div>
      )}
      <Composer
        state={composer}
        label={t('messageLabel', { name: contact.name })}
        placeholder={t('messagePlaceholder')}
        attach={<AttachButton client={client} contactId={contact.id} onSent={onSent} disabled={sendFileBlocked} />}
        submitLabel={editing ? t('save') : t('send')}
        onSend={(text) => void send(text)}
        onInput={typed}
        onPaste={(e) => {
          // A pasted image (a screenshot) is sent as a file; pasted text stays text.
          if (!sendFileBlocked && sendTransferredFile(client, contact.id, e.clipboardData, onSent)) e.preventDefault();
        }}
      />
    </section>
  );
}
