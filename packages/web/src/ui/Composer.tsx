/**
 * The message composer shared by 1:1 and group chats (ChatView, GroupChatView): the draft, its
 * size limit, Enter to send, the attach button slot and the error line under it.
 */
import type { ComponentChildren, RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_TEXT_BYTES } from '@pigeon/client';
import { useI18n } from './i18n-context.js';

const encoder = new TextEncoder();

export interface ComposerState {
  readonly draft: string;
  readonly setDraft: (value: string) => void;
  /** Over the SDK's text limit (bytes, not characters): sending is refused and the composer says why. */
  readonly tooLong: boolean;
  readonly error: string | null;
  readonly setError: (error: string | null) => void;
  /** The chat's heading: focused when another conversation opens, so screen readers announce it. */
  readonly headingRef: RefObject<HTMLHeadingElement | null>;
  readonly inputRef: RefObject<HTMLTextAreaElement | null>;
}

/** The composer's state; a new conversation (another `conversationId`) starts with an empty draft and no error. */
export function useComposer(conversationId: string): ComposerState {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    headingRef.current?.focus();
    setDraft('');
    setError(null);
  }, [conversationId]);
  return { draft, setDraft, tooLong: encoder.encode(draft).length > MAX_TEXT_BYTES, error, setError, headingRef, inputRef };
}

export interface ComposerProps {
  readonly state: ComposerState;
  /** The textarea's accessible name ("Message to …"). */
  readonly label: string;
  readonly placeholder: string;
  /** The attach button (AttachButton / FilePickButton). */
  readonly attach: ComponentChildren;
  readonly submitLabel: string;
  /** Nothing can be typed or sent (a group we are no longer in). */
  readonly disabled?: boolean;
  /** Called with the trimmed text when it is not empty, not too long and the composer is enabled. */
  readonly onSend: (text: string) => void;
  /** Defaults to `state.setDraft`; a 1:1 chat also sends "typing" from here. */
  readonly onInput?: (value: string) => void;
  readonly onPaste?: (e: ClipboardEvent) => void;
}

export function Composer({ state, label, placeholder, attach, submitLabel, disabled = false, onSend, onInput = state.setDraft, onPaste }: ComposerProps) {
  const { t } = useI18n();
  const { draft, tooLong, error, inputRef } = state;
  const send = () => {
    const text = draft.trim();
    if (text.length === 0 || tooLong || disabled) return;
    onSend(text);
  };
  return (
    <>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <label for="composer-input" class="sr-only">
          {label}
        </label>
        {attach}
        <textarea
          id="composer-input"
          ref={inputRef}
          rows={1}
          placeholder={placeholder}
          value={draft}
          disabled={disabled}
          aria-invalid={tooLong}
          onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)}
          onPaste={onPaste}
          onKeyDown={(e) => {
            // Enter sends, Shift+Enter is a new line (the usual chat convention).
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={disabled || draft.trim().length === 0 || tooLong}>
          {submitLabel}
        </button>
      </form>
      {(error || tooLong) && (
        <p class="error composer-error" role="alert">
          {tooLong ? t('tooLong') : error}
        </p>
      )}
    </>
  );
}
