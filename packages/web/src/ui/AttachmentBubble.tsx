/**
 * The attachment inside a message bubble. Images (PNG, JPEG, GIF, WebP; logic/attachments.ts)
 * up to AUTO_DOWNLOAD_MAX_BYTES are downloaded, verified and decrypted as soon as the bubble
 * shows and appear inline from an object URL (revoked when the bubble goes); a click opens them
 * full size in an overlay inside the app (never a new tab: a blob: URL opened as a document
 * would run with the app's origin). Other files show name, size and a Download button that
 * saves through an <a download> of an octet-stream object URL. Files too big for memory are
 * written to a disk file as they verify (logic/disk-download.ts) and saved from there.
 * Also UploadBubble: a file still being uploaded (no message yet), with its progress.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { AttachmentInfo, PigeonClient, StoredMessage, TransferProgress } from '@pigeon/client';
import { formatBytes, safeFileName } from '@pigeon/client';
import { captionOf, imageCache, isInlineImage, percent, safeBlobType, shouldAutoDownload, uploads, type PendingUpload } from '../logic/attachments.js';
import { diskDownloadsAvailable, downloadToDisk, planDownload } from '../logic/disk-download.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { useDialogFocus } from './useDialogFocus.js';
import type { MessageKey } from '../i18n/index.js';

/** Inline SVG (DOM, not an image load): emoji fonts are missing on many systems. */
export function FileIcon({ image = false }: { image?: boolean }) {
  return (
    <svg class="attachment-icon" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round">
      <path d="M6 2.8h8l4.5 4.5v13.9H6z" />
      <path d="M14 2.8v4.5h4.5" />
      {image ? <path d="M8.5 18l3-4 2 2.5 1.5-2 2 3.5z" /> : <path d="M8.8 12h6.4M8.8 15h6.4M8.8 18h4" />}
    </svg>
  );
}

type Download =
  | { readonly state: 'idle' }
  | { readonly state: 'loading'; readonly progress: TransferProgress | null }
  | { readonly state: 'ready'; readonly blob: Blob }
  | { readonly state: 'failed'; readonly code: string };

function failureText(code: string): { key: MessageKey; params?: Record<string, string> } {
  if (code === 'ATTACHMENT_TAMPERED') return { key: 'attachmentTampered' };
  if (code === 'ATTACHMENT_TOO_LARGE') return { key: 'attachmentTooLarge' };
  if (code === 'STORAGE_FULL') return { key: 'storageFull' };
  return { key: 'downloadFailed', params: { code } };
}

/** A running upload or download: its progress, labelled, and a Cancel button. */
function TransferProgressBar({ label, percent: value, cancelTestId, onCancel }: { label: string; percent: number; cancelTestId: string; onCancel: () => void }) {
  const { t } = useI18n();
  return (
    <>
      <span class="attachment-progress">
        <progress max={100} value={value} aria-label={label} />
        <span class="muted small">{label}</span>
      </span>
      <button type="button" class="link" data-testid={cancelTestId} onClick={onCancel}>
        {t('cancelTransfer')}
      </button>
    </>
  );
}

/** An object URL for `blob` while the component shows it; revoked on change and unmount. */
function useObjectUrl(blob: Blob | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) return undefined;
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => {
      URL.revokeObjectURL(u);
      setUrl(null);
    };
  }, [blob]);
  return url;
}

export function AttachmentBubble({ client, messageId, info }: { client: PigeonClient; messageId: string; info: AttachmentInfo }) {
  const { t } = useI18n();
  const image = isInlineImage(info);
  const [download, setDownload] = useState<Download>(() => {
    const cached = image ? imageCache.get(messageId) : undefined;
    return cached ? { state: 'ready', blob: cached } : { state: 'idle' };
  });
  const [fullSize, setFullSize] = useState(false);
  const saveRef = useRef<HTMLAnchorElement>(null);
  const lightbox = useRef<HTMLDivElement>(null);
  const closeLightbox = useRef<HTMLButtonElement>(null);
  useDialogFocus(lightbox, fullSize);
  const mounted = useRef(true);
  const transfer = useRef<AbortController | null>(null);
  // Leaving the chat stops a download nobody sees any more.
  useEffect(
    () => () => {
      mounted.current = false;
      transfer.current?.abort();
    },
    [],
  );

  const start = () => {
    setDownload({ state: 'loading', progress: null });
    const controller = new AbortController();
    transfer.current = controller;
    const options = {
      signal: controller.signal,
      // The page can fetch only its own origin (the relay that serves it): fail at once otherwise.
      allowedOrigins: [location.origin],
      onProgress: (progress: TransferProgress) => mounted.current && setDownload({ state: 'loading', progress }),
    };
    const type = safeBlobType(info);
    // Big files stream to a disk file (logic/disk-download.ts); the rest is decrypted in memory.
    const job =
      planDownload(info.size, diskDownloadsAvailable()) === 'disk'
        ? downloadToDisk(client, messageId, info.size, options).then((file) => new Blob([file], { type }))
        : client.downloadAttachmentBytes(messageId, options).then((bytes) => new Blob([bytes], { type }));
    job.then(
      (blob) => {
        if (image) imageCache.put(messageId, blob);
        if (mounted.current) setDownload({ state: 'ready', blob });
      },
      (err: unknown) => {
        if (!mounted.current) return;
        const code = errorCode(err);
        setDownload(code === 'CANCELLED' ? { state: 'idle' } : { state: 'failed', code });
      },
    );
  };
  useEffect(() => {
    if (download.state === 'idle' && shouldAutoDownload(info)) start();
  }, [messageId]);

  const url = useObjectUrl(download.state === 'ready' ? download.blob : null);
  // A file the user asked for is saved as soon as it is ready (the link stays for a second save).
  useEffect(() => {
    if (!image && url) saveRef.current?.click();
  }, [url]);
  useEffect(() => {
    if (!fullSize) return undefined;
    closeLightbox.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setFullSize(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [fullSize]);

  const name = info.fileName;
  const meta = (
    <span class="attachment-meta">
      <span class="attachment-name" dir="auto">
        {name}
      </span>{' '}
      <span class="muted small">{formatBytes(info.size)}</span>
    </span>
  );
  const progressBar =
    download.state === 'loading' ? (
      <TransferProgressBar label={t('downloading', { percent: percent(download.progress) })} percent={percent(download.progress)} cancelTestId="download-cancel" onCancel={() => transfer.current?.abort()} />
    ) : null;
  const failure = download.state === 'failed' ? failureText(download.code) : null;

  if (image && url) {
    return (
      <div class="attachment attachment-image" data-testid="attachment" data-kind="image" data-state="ready">
        <button type="button" class="attachment-thumb" onClick={() => setFullSize(true)} aria-label={t('openFullSize', { name })}>
          <img src={url} alt={name} data-testid="attachment-image" />
        </button>
        {fullSize && (
          <div ref={lightbox} class="lightbox" role="dialog" aria-modal="true" aria-label={name} data-testid="lightbox" onClick={() => setFullSize(false)}>
            <img src={url} alt={name} />
            <button ref={closeLightbox} type="button" class="secondary lightbox-close" onClick={() => setFullSize(false)}>
              {t('closeImage')}
            </button>
          </div>
        )}
      </div>
    );
  }
  return (
    <div class="attachment attachment-file" data-testid="attachment" data-kind={image ? 'image' : 'file'} data-state={download.state}>
      <FileIcon image={image} />
      {meta}
      {progressBar}
      {failure && (
        <span class="error small" role="alert">
          {t(failure.key, failure.params)}
        </span>
      )}
      {(download.state === 'idle' || download.state === 'failed') && (
        <button type="button" class="secondary" data-testid="attachment-download" onClick={start}>
          {image ? t('showImage') : t('downloadFile')}
        </button>
      )}
      {!image && url && (
        <a class="link" ref={saveRef} href={url} download={safeFileName(name)} data-testid="attachment-save">
          {t('saveFile', { name })}
        </a>
      )}
    </div>
  );
}

/** What MessageBubble shows for a message that carries an attachment (undefined: none, or deleted). */
export function attachmentOf(client: PigeonClient, m: StoredMessage): { node: ComponentChildren; caption: string } | undefined {
  const info = m.deleted ? undefined : client.attachment(m.id);
  if (!info) return undefined;
  return { node: <AttachmentBubble client={client} messageId={m.id} info={info} />, caption: captionOf(m, info, formatBytes) };
}

/** A file on its way (no message yet); a failed one stays until dismissed. */
export function UploadBubble({ upload }: { upload: PendingUpload }) {
  const { t } = useI18n();
  const p = percent(upload.progress);
  return (
    <article class="msg msg-out msg-uploading" data-testid="upload" data-state={upload.error ? 'failed' : 'uploading'}>
      <div class="attachment attachment-file">
        <FileIcon image={isInlineImage(upload)} />
        <span class="attachment-meta">
          <span class="attachment-name" dir="auto">
            {upload.fileName}
          </span>{' '}
          <span class="muted small">{formatBytes(upload.size)}</span>
        </span>
        {upload.error ? (
          <>
            <span class="error small" role="alert">
              {t('uploadFailed', { code: upload.error })}
            </span>
            <button type="button" class="link" onClick={() => uploads.remove(upload.id)}>
              {t('dismiss')}
            </button>
          </>
        ) : (
          <TransferProgressBar label={t('uploading', { percent: p })} percent={p} cancelTestId="upload-cancel" onCancel={() => uploads.cancel(upload.id)} />
        )}
      </div>
    </article>
  );
}
