import { useEffect, useRef, useState } from 'preact/hooks';
import type { Contact, PigeonClient, StoredMessage } from '@pigeon/client';
import { MAX_TEXT_BYTES } from '@pigeon/client';
import { dayLabel, withDaySeparators } from '../logic/format.js';
import type { KeyChangeWarning } from '../logic/key-change.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { MessageBubble } from './MessageBubble.js';

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
}

const encoder = new TextEncoder();

export function ChatView({ client, contact, messages, warning, onSent, onSafety, onDismissWarning, onAcknowledgeKeyChange, onBack }: ChatProps) {
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
  }, [contact.id]);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, contact.id]);

  const tooLong = encoder.encode(draft).length > MAX_TEXT_BYTES;
  const send = async () => {
    const text = draft.trim();
    if (text.length === 0 || tooLong) return;
    setError(null);
    try {
      const m = await client.send(contact.id, text);
      setDraft('');
      onSent(m);
    } catch (err) {
      setError(errorCode(err) === 'IDENTITY_CHANGED' ? t('identityChangedSend') : t('sendFailed', { code: errorCode(err) }));
    }
    inputRef.current?.focus();
  };
  const now = Date.now();
  return (
    <section class="chat" aria-labelledby="chat-title">
      <header class="pane-header">
        <button type="button" class="icon back" onClick={onBack} aria-label={t('back')}>
          ←
        </button>
        <h2 id="chat-title" tabIndex={-1} ref={headingRef}>
          {contact.name}
        </h2>
        <span class={`verify-badge ${contact.verified ? 'ok' : ''}`}>{contact.verified ? t('verified') : t('unverified')}</span>
        <button type="button" class="secondary" onClick={onSafety}>
          {t('safetyNumber')}
        </button>
      </header>
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
      <div class="log" role="log" aria-live="polite" aria-label={t('messagesOf', { name: contact.name })} ref={logRef} tabIndex={0}>
        {withDaySeparators(messages).map((item) =>
          item.kind === 'day' ? (
            <div class="day" role="separator" key={item.key}>
              <span>{dayLabel(item.day, now, locale, { today: t('today'), yesterday: t('yesterday') })}</span>
            </div>
          ) : (
            <MessageBubble m={item.message} key={item.key} />
          ),
        )}
      </div>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label for="composer-input" class="sr-only">
          {t('messageLabel', { name: contact.name })}
        </label>
        <textarea
          id="composer-input"
          ref={inputRef}
          rows={1}
          placeholder={t('messagePlaceholder')}
          value={draft}
          aria-invalid={tooLong}
          onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            // Enter sends, Shift+Enter is a new line (the usual chat convention).
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={draft.trim().length === 0 || tooLong}>
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
