import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { dayLabel, withDaySeparators } from '../logic/format.js';
import { UploadBubble } from './AttachmentBubble.js';
import { usePendingUploads } from './AttachButton.js';
import { useI18n } from './i18n-context.js';
import { useStickyLog } from './useStickyLog.js';

export interface MessageLogProps<M extends { id: string; sentAt: number }> {
  /** Which conversation: opening another one scrolls to its end. */
  readonly conversationId: string;
  /** Where this conversation's uploads in flight are tracked (a contact id, or groupUploadKey). */
  readonly uploadKey: string;
  readonly label: string;
  readonly messages: readonly M[];
  readonly bubble: (m: M, key: string) => ComponentChildren;
}

/**
 * The scrolling message log of a chat (1:1 and group): day separators, the bubbles, the uploads in
 * flight after them; it opens at its end and follows new content while the reader is at the bottom.
 */
export function MessageLog<M extends { id: string; sentAt: number }>({ conversationId, uploadKey, label, messages, bubble }: MessageLogProps<M>) {
  const { t, locale } = useI18n();
  const logRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, conversationId]);
  const pendingUploads = usePendingUploads(uploadKey);
  const sticky = useStickyLog(logRef, pendingUploads.length);
  const now = Date.now();
  return (
    <div class="log" role="log" aria-live="polite" aria-label={label} ref={logRef} tabIndex={0} onScroll={sticky.onScroll} onLoadCapture={sticky.onLoadCapture}>
      {withDaySeparators(messages).map((item) =>
        item.kind === 'day' ? (
          <div class="day" role="separator" key={item.key}>
            <span>{dayLabel(item.day, now, locale, { today: t('today'), yesterday: t('yesterday') })}</span>
          </div>
        ) : (
          bubble(item.message, item.key)
        ),
      )}
      {pendingUploads.map((u) => (
        <UploadBubble upload={u} key={`upload-${u.id}`} />
      ))}
    </div>
  );
}
