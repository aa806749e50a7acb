/**
 * Attachments in the web app, without the DOM parts: which files show inline, the caption of an
 * attachment message, uploads in flight (an observable list the chat renders as bubbles), and a
 * small cache of decrypted images so reopening a chat does not download them again.
 *
 * Safety: only raster types a browser decodes as pixels are shown inline (PNG, JPEG, GIF, WebP).
 * The sender chooses the content type, so SVG (which can carry script and links) and everything
 * else is a file; downloaded files are handed to the browser as application/octet-stream.
 */
import type { AttachmentInfo, GroupMessage, StoredMessage, TransferProgress } from '@pigeon/client';

export const INLINE_IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
/** Images up to this size are downloaded as soon as their bubble shows; bigger ones on request. */
export const AUTO_DOWNLOAD_MAX_BYTES = 10 * 1024 * 1024;
/** Decrypted images kept in memory across chat switches (least recently used dropped first). */
export const IMAGE_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/** The media type without parameters, lower case ("Image/PNG; x=y" -> "image/png"). */
export function baseType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function isInlineImage(info: Pick<AttachmentInfo, 'contentType'>): boolean {
  return INLINE_IMAGE_TYPES.includes(baseType(info.contentType));
}

export function shouldAutoDownload(info: AttachmentInfo): boolean {
  return isInlineImage(info) && info.size <= AUTO_DOWNLOAD_MAX_BYTES;
}

/**
 * The type the decrypted bytes get in the browser: an allowed image type for images, else
 * octet-stream, so an object URL of a received file is never rendered as a page (HTML, SVG).
 */
export function safeBlobType(info: Pick<AttachmentInfo, 'contentType'>): string {
  return isInlineImage(info) ? baseType(info.contentType) : 'application/octet-stream';
}

/** Same summary as the SDK's describeAttachment ("[file] name (size)"). */
export function attachmentSummary(info: AttachmentInfo, formatBytes: (n: number) => string): string {
  return `[file] ${info.fileName} (${formatBytes(info.size)})`;
}

/** The caption of an attachment message: its text after the summary (empty if none). */
export function captionOf(m: Pick<StoredMessage, 'text'>, info: AttachmentInfo, formatBytes: (n: number) => string): string {
  const summary = attachmentSummary(info, formatBytes);
  return m.text.startsWith(summary) ? m.text.slice(summary.length).trim() : m.text;
}

/** 0..100 for a progress bar. */
export function percent(p: Pick<TransferProgress, 'done' | 'total'> | null): number {
  if (!p || p.total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((p.done / p.total) * 100)));
}

// ---- uploads in flight ----------------------------------------------------------------------

export interface PendingUpload {
  readonly id: number;
  readonly contactId: string;
  readonly fileName: string;
  readonly size: number;
  readonly contentType: string;
  readonly progress: TransferProgress | null;
  /** Error code once it failed (the bubble stays until dismissed). */
  readonly error: string | null;
}

type Listener = () => void;

/** Uploads that have no message yet (the message exists only once the upload is done). */
export class UploadTracker {
  private items: PendingUpload[] = [];
  private nextId = 1;
  private readonly listeners = new Set<Listener>();
  /** Per running upload: what its Cancel button aborts. */
  private readonly controllers = new Map<number, AbortController>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  forContact(contactId: string): readonly PendingUpload[] {
    return this.items.filter((u) => u.contactId === contactId);
  }

  start(contactId: string, file: { name: string; size: number; type: string }): number {
    const id = this.nextId++;
    this.items = [...this.items, { id, contactId, fileName: file.name || 'attachment', size: file.size, contentType: file.type, progress: null, error: null }];
    this.controllers.set(id, new AbortController());
    this.emit();
    return id;
  }

  /** The signal the upload `id` runs under. */
  signal(id: number): AbortSignal | undefined {
    return this.controllers.get(id)?.signal;
  }

  /** Stops a running upload (sendFile then removes its bubble: nothing was sent). */
  cancel(id: number): void {
    this.controllers.get(id)?.abort();
  }

  progress(id: number, progress: TransferProgress): void {
    this.update(id, { progress });
  }

  fail(id: number, code: string): void {
    this.controllers.delete(id);
    this.update(id, { error: code });
  }

  /** Done (the message took its place) or dismissed after a failure. */
  remove(id: number): void {
    this.controllers.delete(id);
    this.items = this.items.filter((u) => u.id !== id);
    this.emit();
  }

  private update(id: number, change: Partial<PendingUpload>): void {
    this.items = this.items.map((u) => (u.id === id ? { ...u, ...change } : u));
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

type SendBlobOptions = { fileName?: string; contentType?: string; onProgress?: (p: TransferProgress) => void; signal?: AbortSignal };

/** What sendFile needs of the SDK client (a one-to-one message, or a group's: groupSender). */
export interface AttachmentSender<M extends { readonly id: string } = StoredMessage> {
  sendAttachmentBlob(contactId: string, blob: Blob, options: SendBlobOptions): Promise<M>;
}

/** A group's uploads are tracked under this key (contact ids are plain hex: no clash). */
export function groupUploadKey(groupId: string): string {
  return `group:${groupId}`;
}

/** client.groups as a sender for sendFile under groupUploadKey(groupId): the file goes to the group. */
export function groupSender(
  groups: { sendAttachmentBlob(group: string, blob: Blob, options: SendBlobOptions): Promise<GroupMessage> },
  groupId: string,
): AttachmentSender<GroupMessage> {
  return { sendAttachmentBlob: (_key, blob, options) => groups.sendAttachmentBlob(groupId, blob, options) };
}

/**
 * Uploads a file to a contact with a bubble in `tracker` while it runs. Resolves with the sent
 * message (the pending bubble is then removed), or null after a failure (the bubble shows it) or
 * a cancel (`tracker.cancel`; the bubble goes).
 * A sent image goes into `cache`, so its own bubble shows it without downloading it back.
 */
export async function sendFile<M extends { readonly id: string }>(client: AttachmentSender<M>, contactId: string, file: File, tracker: UploadTracker, cache: ImageCache): Promise<M | null> {
  const id = tracker.start(contactId, file);
  try {
    const m = await client.sendAttachmentBlob(contactId, file, { fileName: file.name || undefined, onProgress: (p) => tracker.progress(id, p), signal: tracker.signal(id) });
    if (isInlineImage({ contentType: file.type }) && file.size <= AUTO_DOWNLOAD_MAX_BYTES) cache.put(m.id, file);
    tracker.remove(id);
    return m;
  } catch (err) {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
    // Cancelled by the user: nothing was sent and there is nothing to explain.
    if (code === 'CANCELLED') tracker.remove(id);
    else tracker.fail(id, code);
    return null;
  }
}

// ---- decrypted image cache ------------------------------------------------------------------

/** Message id -> decrypted image (a Blob: object URLs are made per bubble and revoked with it). */
export class ImageCache {
  private readonly entries = new Map<string, Blob>();
  private bytes = 0;

  constructor(private readonly maxBytes = IMAGE_CACHE_MAX_BYTES) {}

  get(messageId: string): Blob | undefined {
    const blob = this.entries.get(messageId);
    if (blob) {
      // Most recently used goes last.
      this.entries.delete(messageId);
      this.entries.set(messageId, blob);
    }
    return blob;
  }

  put(messageId: string, blob: Blob): void {
    if (blob.size > this.maxBytes) return;
    const old = this.entries.get(messageId);
    if (old) {
      this.bytes -= old.size;
      this.entries.delete(messageId);
    }
    this.entries.set(messageId, blob);
    this.bytes += blob.size;
    for (const [id, b] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= b.size;
    }
  }

  get size(): number {
    return this.bytes;
  }
}

/** The app's one tracker and cache (uploads outlive a chat switch). */
export const uploads = new UploadTracker();
export const imageCache = new ImageCache();

/** Files dropped or pasted: the first file, if any. */
export function firstFile(list: { length: number; item(i: number): File | null } | null | undefined): File | null {
  return list && list.length > 0 ? list.item(0) : null;
}
