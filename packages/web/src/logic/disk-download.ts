/**
 * Downloads too big to hold in memory go to disk: a file in the origin-private file system
 * (OPFS), written through a FileSystemWritableFileStream as the SDK verifies each chunk
 * (PigeonClient.downloadAttachmentTo). The browser keeps such writes in a swap file until close(),
 * so a download that fails verification is aborted and nothing of it stays. The finished file is
 * handed to the page as a disk-backed File: an object URL of it saves or shows it without reading
 * it into memory.
 *
 * Finished files stay until a later sweep (DISK_DOWNLOAD_KEEP_MS): removing one while its object
 * URL is still being saved would break the save, and the saved copy is the user's anyway.
 */
import type { PigeonClient, TransferProgress } from '@pigeon/client';
import { MAX_IN_MEMORY_DOWNLOAD_BYTES } from '@pigeon/client';

/** The OPFS directory of finished downloads (nothing else of the app lives in OPFS). */
export const DISK_DOWNLOAD_DIR = 'downloads';
/** Above this size a download goes to disk when the browser can; below, memory is quicker. */
export const DISK_DOWNLOAD_MIN_BYTES = 64 * 1024 * 1024;
/** Finished downloads older than this are removed by sweepDiskDownloads. */
export const DISK_DOWNLOAD_KEEP_MS = 60 * 60 * 1000;
/** Room left free beside a download: the browser's own bookkeeping, IndexedDB's next writes. */
export const DISK_HEADROOM_BYTES = 16 * 1024 * 1024;

export type DownloadPlan = 'memory' | 'disk' | 'too-large';

/** Where a download of `size` bytes goes. 'too-large': memory cannot hold it and there is no disk. */
export function planDownload(size: number, diskAvailable: boolean): DownloadPlan {
  if (diskAvailable && size > DISK_DOWNLOAD_MIN_BYTES) return 'disk';
  return size > MAX_IN_MEMORY_DOWNLOAD_BYTES ? 'too-large' : 'memory';
}

/** Whether this browser can write OPFS files from the page (Chromium 86+, Firefox 111+, Safari 18+). */
export function diskDownloadsAvailable(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    typeof navigator.storage?.getDirectory === 'function' &&
    typeof FileSystemFileHandle !== 'undefined' &&
    typeof FileSystemFileHandle.prototype.createWritable === 'function'
  );
}

/** The download needs more space than the browser grants this site. */
export class StorageFullError extends Error {
  readonly code = 'STORAGE_FULL';
  override readonly name = 'StorageFullError';
}

/** Whether `free` bytes hold a download of `size` with the headroom kept free. */
export function fitsIn(size: number, free: number): boolean {
  return size + DISK_HEADROOM_BYTES <= free;
}

function isQuotaError(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'QuotaExceededError';
}

async function downloadsDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DISK_DOWNLOAD_DIR, { create: true });
}

/** Removes finished downloads older than `keepMs` (files still in use elsewhere are skipped). */
export async function sweepDiskDownloads(now = Date.now(), keepMs = DISK_DOWNLOAD_KEEP_MS): Promise<number> {
  if (!diskDownloadsAvailable()) return 0;
  const dir = await downloadsDir();
  let removed = 0;
  for await (const handle of dir.values()) {
    if (handle.kind !== 'file') continue;
    try {
      const file = await (handle as FileSystemFileHandle).getFile();
      if (now - file.lastModified < keepMs) continue;
      await dir.removeEntry(handle.name);
      removed++;
    } catch {
      // Being written or saved by another tab: a later sweep gets it.
    }
  }
  return removed;
}

/** Removes every download file (a profile reset). */
export async function clearDiskDownloads(): Promise<void> {
  if (!diskDownloadsAvailable()) return;
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(DISK_DOWNLOAD_DIR, { recursive: true }).catch((err: unknown) => {
    if (!(err instanceof DOMException && err.name === 'NotFoundError')) throw err;
  });
}

export interface DiskDownloadOptions {
  readonly allowedOrigins?: readonly string[];
  readonly onProgress?: (progress: TransferProgress) => void;
  readonly signal?: AbortSignal;
}

/**
 * Downloads a message's attachment into a new OPFS file and returns it as a disk-backed File.
 * Rejects with the SDK's typed errors (ATTACHMENT_TAMPERED, RELAY_UNREACHABLE, ...) or
 * STORAGE_FULL; after a rejection no file of this download is left.
 */
export async function downloadToDisk(client: PigeonClient, messageId: string, size: number, options: DiskDownloadOptions = {}): Promise<File> {
  await sweepDiskDownloads().catch(() => 0);
  const { quota, usage } = await navigator.storage.estimate();
  if (quota !== undefined && !fitsIn(size, quota - (usage ?? 0))) throw new StorageFullError('not enough storage for this download');
  const dir = await downloadsDir();
  // A fresh name per download: two downloads of one message never share a file.
  const name = `${messageId}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const handle = await dir.getFileHandle(name, { create: true });
  let writable: FileSystemWritableFileStream | undefined;
  try {
    writable = await handle.createWritable();
    const out = writable;
    await client.downloadAttachmentTo(messageId, { write: (plain, at) => out.write({ type: 'write', position: at, data: plain as Uint8Array<ArrayBuffer> }) }, options);
    await out.close();
    writable = undefined;
    return await handle.getFile();
  } catch (err) {
    await writable?.abort().catch(() => undefined);
    await dir.removeEntry(name).catch(() => undefined);
    throw isQuotaError(err) ? new StorageFullError('the browser ran out of storage for this download', { cause: err }) : err;
  }
}
