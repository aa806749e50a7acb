/**
 * Sending files: the composer's attach button (a file picker), plus what ChatView uses for a
 * pasted or dropped file and for showing uploads in flight (logic/attachments.ts `uploads`).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { GroupMessage, PigeonClient, StoredMessage } from '@pigeon/client';
import { firstFile, groupSender, groupUploadKey, imageCache, sendFile, uploads, type PendingUpload } from '../logic/attachments.js';
import { useI18n } from './i18n-context.js';

/** Starts the upload of `file` to the contact; `onSent` gets the message once it is sent. */
export function startUpload(client: PigeonClient, contactId: string, file: File, onSent: (m: StoredMessage) => void): void {
  void sendFile(client, contactId, file, uploads, imageCache).then((m) => m && onSent(m));
}

/** Starts the upload of `file` to a group (tracked under groupUploadKey); `onSent` gets the group message. */
export function startGroupUpload(client: PigeonClient, groupId: string, file: File, onSent: (m: GroupMessage) => void): void {
  void sendFile(groupSender(client.groups, groupId), groupUploadKey(groupId), file, uploads, imageCache).then((m) => m && onSent(m));
}

/** Sends the first file of a paste or drop; true when there was one (the event is then handled). */
export function sendTransferredFile(client: PigeonClient, contactId: string, data: DataTransfer | null, onSent: (m: StoredMessage) => void): boolean {
  const file = firstFile(data?.files);
  if (!file) return false;
  startUpload(client, contactId, file, onSent);
  return true;
}

/** The group-chat twin of sendTransferredFile: a dropped or pasted file goes to the group. */
export function sendTransferredGroupFile(client: PigeonClient, groupId: string, data: DataTransfer | null, onSent: (m: GroupMessage) => void): boolean {
  const file = firstFile(data?.files);
  if (!file) return false;
  startGroupUpload(client, groupId, file, onSent);
  return true;
}

/** The contact's uploads in flight, re-rendered as they progress. */
export function usePendingUploads(contactId: string): readonly PendingUpload[] {
  const [list, setList] = useState(() => uploads.forContact(contactId));
  useEffect(() => {
    setList(uploads.forContact(contactId));
    return uploads.subscribe(() => setList(uploads.forContact(contactId)));
  }, [contactId]);
  return list;
}

export function AttachButton({ client, contactId, onSent, disabled = false }: { client: PigeonClient; contactId: string; onSent: (m: StoredMessage) => void; disabled?: boolean }) {
  return <FilePickButton disabled={disabled} onFile={(file) => startUpload(client, contactId, file, onSent)} />;
}

/** The paper-clip button and its hidden file input; `onFile` gets the picked file. */
export function FilePickButton({ onFile, disabled = false }: { onFile: (file: File) => void; disabled?: boolean }) {
  const { t } = useI18n();
  const inputRef = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={inputRef}
        type="file"
        class="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        data-testid="attach-input"
        onChange={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          const file = firstFile(input.files);
          // Cleared so that picking the same file again fires another change.
          input.value = '';
          if (file) onFile(file);
        }}
      />
      <button type="button" class="icon attach" data-testid="attach" disabled={disabled} aria-label={t('attachFile')} title={t('attachFile')} onClick={() => inputRef.current?.click()}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round">
          <path d="M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.6 1.6 0 0 1-2.3-2.3l7.8-7.8" />
        </svg>
      </button>
    </>
  );
}
