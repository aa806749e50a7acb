// @vitest-environment happy-dom
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { describe, expect, it, vi } from 'vitest';
import type { AttachmentInfo, PigeonClient, StoredMessage, TransferProgress } from '@pigeon/client';
import { formatBytes, MAX_IN_MEMORY_DOWNLOAD_BYTES } from '@pigeon/client';
import {
  AUTO_DOWNLOAD_MAX_BYTES,
  captionOf,
  ImageCache,
  imageCache,
  isInlineImage,
  percent,
  safeBlobType,
  sendFile,
  shouldAutoDownload,
  UploadTracker,
  uploads,
  type AttachmentSender,
} from '../src/logic/attachments.js';
import { DISK_DOWNLOAD_MIN_BYTES, DISK_HEADROOM_BYTES, diskDownloadsAvailable, fitsIn, planDownload } from '../src/logic/disk-download.js';
import { AttachmentBubble, UploadBubble } from '../src/ui/AttachmentBubble.js';
import { mount } from './dom-mount.js';

const info = (over: Partial<AttachmentInfo> = {}): AttachmentInfo => ({ fileName: 'cat.png', contentType: 'image/png', size: 2048, ...over });
const msg = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  id: 'm1', contactId: 'c1', direction: 'in', text: '[file] cat.png (2.0 KB)', sentAt: 1, receivedAt: 2, state: 'delivered', read: false, ...over,
});

describe('which attachments show inline', () => {
  it('raster images only; SVG and anything else is a file, whatever the case or parameters', () => {
    for (const t of ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'IMAGE/PNG', 'image/jpeg; q=1']) expect(isInlineImage({ contentType: t })).toBe(true);
    for (const t of ['image/svg+xml', 'text/html', 'image/x-icon', 'application/octet-stream', '', 'image/png-but-not']) expect(isInlineImage({ contentType: t })).toBe(false);
  });

  it('objects URLs of files are octet-stream, images get only their allowed type', () => {
    expect(safeBlobType({ contentType: 'Image/WebP; a=b' })).toBe('image/webp');
    expect(safeBlobType({ contentType: 'text/html' })).toBe('application/octet-stream');
    expect(safeBlobType({ contentType: 'image/svg+xml' })).toBe('application/octet-stream');
  });

  it('downloads images automatically up to the size limit', () => {
    expect(shouldAutoDownload(info({ size: AUTO_DOWNLOAD_MAX_BYTES }))).toBe(true);
    expect(shouldAutoDownload(info({ size: AUTO_DOWNLOAD_MAX_BYTES + 1 }))).toBe(false);
    expect(shouldAutoDownload(info({ contentType: 'application/pdf', fileName: 'a.pdf' }))).toBe(false);
  });

  it('the caption is the text after the SDK summary', () => {
    expect(captionOf(msg(), info(), formatBytes)).toBe('');
    expect(captionOf(msg({ text: '[file] cat.png (2.0 KB) look at him' }), info(), formatBytes)).toBe('look at him');
    expect(captionOf(msg({ text: 'edited text' }), info(), formatBytes)).toBe('edited text');
  });

  it('percent is clamped and whole', () => {
    expect(percent(null)).toBe(0);
    expect(percent({ done: 1, total: 3 })).toBe(33);
    expect(percent({ done: 5, total: 0 })).toBe(0);
    expect(percent({ done: 9, total: 3 })).toBe(100);
  });
});

describe('uploads in flight', () => {
  const file = (name: string, type: string, size = 10) => new File([new Uint8Array(size)], name, { type });

  it('tracks progress per contact and notifies', () => {
    const tracker = new UploadTracker();
    const seen = vi.fn();
    const off = tracker.subscribe(seen);
    const a = tracker.start('c1', file('a.txt', 'text/plain'));
    tracker.start('c2', file('b.txt', 'text/plain'));
    tracker.progress(a, { phase: 'upload', done: 512, total: 1024 });
    expect(tracker.forContact('c1').map((u) => [u.fileName, percent(u.progress)])).toEqual([['a.txt', 50]]);
    tracker.fail(a, 'RELAY_UNREACHABLE');
    expect(tracker.forContact('c1')[0]!.error).toBe('RELAY_UNREACHABLE');
    tracker.remove(a);
    expect(tracker.forContact('c1')).toEqual([]);
    expect(seen).toHaveBeenCalledTimes(5);
    off();
    tracker.remove(2);
    expect(seen).toHaveBeenCalledTimes(5);
  });

  it('sendFile: progress, then the message; a sent image is cached so it shows without a download', async () => {
    const tracker = new UploadTracker();
    const cache = new ImageCache();
    const progress: number[] = [];
    tracker.subscribe(() => progress.push(...tracker.forContact('c1').map((u) => percent(u.progress))));
    const client: AttachmentSender = {
      sendAttachmentBlob: vi.fn(async (_c: string, _b: Blob, o: { onProgress?: (p: TransferProgress) => void }) => {
        o.onProgress?.({ phase: 'upload', done: 1, total: 2 });
        return msg({ id: 'sent1', direction: 'out' });
      }),
    };
    const png = file('cat.png', 'image/png');
    const m = await sendFile(client, 'c1', png, tracker, cache);
    expect(m?.id).toBe('sent1');
    expect(client.sendAttachmentBlob).toHaveBeenCalledWith('c1', png, expect.objectContaining({ fileName: 'cat.png' }));
    expect(progress).toContain(50);
    expect(tracker.forContact('c1')).toEqual([]);
    expect(cache.get('sent1')).toBe(png);
    // Not an inline type: nothing cached.
    await sendFile(client, 'c1', file('x.svg', 'image/svg+xml'), tracker, new ImageCache());
  });

  it('sendFile: a failure stays as a bubble with its code', async () => {
    const tracker = new UploadTracker();
    const client: AttachmentSender = { sendAttachmentBlob: async () => Promise.reject(Object.assign(new Error('x'), { code: 'ATTACHMENT_TOO_LARGE' })) };
    expect(await sendFile(client, 'c1', file('big.bin', ''), tracker, new ImageCache())).toBeNull();
    expect(tracker.forContact('c1').map((u) => u.error)).toEqual(['ATTACHMENT_TOO_LARGE']);
  });

  it('sendFile: a cancel stops the upload through its signal and removes the bubble without an error', async () => {
    const tracker = new UploadTracker();
    let signal: AbortSignal | undefined;
    const client: AttachmentSender = {
      sendAttachmentBlob: (_c, _b, o) =>
        new Promise((_resolve, reject) => {
          signal = o.signal;
          o.signal?.addEventListener('abort', () => reject(Object.assign(new Error('x'), { code: 'CANCELLED' })));
        }),
    };
    const sending = sendFile(client, 'c1', file('long.bin', ''), tracker, new ImageCache());
    const [pending] = tracker.forContact('c1');
    expect(pending?.error).toBeNull();
    tracker.cancel(pending!.id);
    expect(signal?.aborted).toBe(true);
    expect(await sending).toBeNull();
    expect(tracker.forContact('c1')).toEqual([]);
  });
});

describe('image cache', () => {
  it('drops the least recently used images beyond its byte budget, never holds an oversized one', () => {
    const cache = new ImageCache(100);
    const b = (n: number) => new Blob([new Uint8Array(n)]);
    cache.put('a', b(40));
    cache.put('b', b(40));
    cache.get('a'); // a is now the most recent
    cache.put('c', b(40));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.size).toBe(40);
    expect(cache.get('c')?.size).toBe(40);
    expect(cache.size).toBe(80);
    cache.put('huge', b(101));
    expect(cache.get('huge')).toBeUndefined();
    cache.put('a', b(10)); // replacing counts once
    expect(cache.size).toBe(50);
  });
});

describe('attachment bubbles', () => {
  const flush = () => act(async () => new Promise((r) => setTimeout(r, 0)));

  it('downloads a small image at once and shows it from an object URL, revoked on unmount', async () => {
    const created: string[] = [];
    const revoked: string[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => (created.push(`blob:test/${created.length}`), created.at(-1)!));
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation((u) => void revoked.push(u));
    const downloadAttachmentBytes = vi.fn(async () => new Uint8Array([137, 80, 78, 71]));
    const client = { downloadAttachmentBytes } as unknown as PigeonClient;
    const el = mount(<AttachmentBubble client={client} messageId="img-1" info={info()} />);
    await flush();
    expect(downloadAttachmentBytes).toHaveBeenCalledWith('img-1', expect.objectContaining({ allowedOrigins: [location.origin] }));
    const img = el.querySelector('img[data-testid=attachment-image]') as HTMLImageElement;
    expect(img.getAttribute('src')).toBe('blob:test/0');
    expect(imageCache.get('img-1')?.type).toBe('image/png');
    act(() => render(null, el));
    expect(revoked).toEqual(['blob:test/0']);
    vi.restoreAllMocks();
  });

  it('an SVG is a file: nothing downloads until asked, and then it is saved as octet-stream', async () => {
    const types: string[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => (types.push((b as Blob).type), 'blob:test/svg'));
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const downloadAttachmentBytes = vi.fn(async () => new TextEncoder().encode('<svg onload="alert(1)"/>'));
    const client = { downloadAttachmentBytes } as unknown as PigeonClient;
    const el = mount(<AttachmentBubble client={client} messageId="svg-1" info={info({ fileName: '../evil.svg', contentType: 'image/svg+xml' })} />);
    await flush();
    expect(downloadAttachmentBytes).not.toHaveBeenCalled();
    expect(el.querySelector('img')).toBeNull();
    act(() => (el.querySelector('[data-testid=attachment-download]') as HTMLButtonElement).click());
    await flush();
    const save = el.querySelector('a[data-testid=attachment-save]') as HTMLAnchorElement;
    expect(save.getAttribute('download')).toBe('evil.svg');
    expect(types).toEqual(['application/octet-stream']);
    expect(el.querySelector('img')).toBeNull();
    vi.restoreAllMocks();
  });

  it('a tampered download says so and offers to try again', async () => {
    const client = { downloadAttachmentBytes: async () => Promise.reject(Object.assign(new Error('x'), { code: 'ATTACHMENT_TAMPERED' })) } as unknown as PigeonClient;
    const el = mount(<AttachmentBubble client={client} messageId="t-1" info={info()} />);
    await flush();
    expect(el.querySelector('[role=alert]')?.textContent).toMatch(/did not pass verification/);
    expect(el.querySelector('[data-testid=attachment-download]')).not.toBeNull();
  });

  it('a running download has a Cancel button: it aborts the transfer and the bubble offers Download again', async () => {
    let signal: AbortSignal | undefined;
    const downloadAttachmentBytes = vi.fn(
      (_id: string, o: { signal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          signal = o.signal;
          o.signal?.addEventListener('abort', () => reject(Object.assign(new Error('x'), { code: 'CANCELLED' })));
        }),
    );
    const client = { downloadAttachmentBytes } as unknown as PigeonClient;
    const el = mount(<AttachmentBubble client={client} messageId="f-1" info={info({ fileName: 'big.zip', contentType: 'application/zip', size: 5_000_000 })} />);
    act(() => (el.querySelector('[data-testid=attachment-download]') as HTMLButtonElement).click());
    await flush();
    expect(el.querySelector('[data-testid=attachment]')?.getAttribute('data-state')).toBe('loading');
    act(() => (el.querySelector('[data-testid=download-cancel]') as HTMLButtonElement).click());
    await flush();
    expect(signal?.aborted).toBe(true);
    expect(el.querySelector('[data-testid=attachment]')?.getAttribute('data-state')).toBe('idle');
    expect(el.querySelector('[role=alert]')).toBeNull();
    expect(el.querySelector('[data-testid=attachment-download]')).not.toBeNull();
  });

  it('an upload bubble has a Cancel button that cancels that upload', () => {
    const tracker = uploads;
    const id = tracker.start('c-cancel', { name: 'a.pdf', size: 4096, type: 'application/pdf' });
    const signal = tracker.signal(id);
    const el = mount(<UploadBubble upload={tracker.forContact('c-cancel')[0]!} />);
    act(() => (el.querySelector('[data-testid=upload-cancel]') as HTMLButtonElement).click());
    expect(signal?.aborted).toBe(true);
    tracker.remove(id);
  });

  it('an upload bubble shows its progress, and a failure with a dismiss button', () => {
    const el = mount(<UploadBubble upload={{ id: 1, contactId: 'c1', fileName: 'a.pdf', size: 4096, contentType: 'application/pdf', progress: { phase: 'upload', done: 3, total: 4 }, error: null }} />);
    expect((el.querySelector('progress') as HTMLProgressElement).getAttribute('value')).toBe('75');
    expect(el.textContent).toContain('75%');
    act(() => render(<UploadBubble upload={{ id: 1, contactId: 'c1', fileName: 'a.pdf', size: 4096, contentType: 'application/pdf', progress: null, error: 'RELAY_UNREACHABLE' }} />, el));
    expect(el.querySelector('[role=alert]')?.textContent).toContain('RELAY_UNREACHABLE');
  });
});

describe('where a download goes', () => {
  it('big files to disk when the browser has OPFS; without it memory up to its limit, then too large', () => {
    expect(planDownload(DISK_DOWNLOAD_MIN_BYTES, true)).toBe('memory');
    expect(planDownload(DISK_DOWNLOAD_MIN_BYTES + 1, true)).toBe('disk');
    expect(planDownload(2 * 1024 ** 3, true)).toBe('disk');
    expect(planDownload(MAX_IN_MEMORY_DOWNLOAD_BYTES, false)).toBe('memory');
    expect(planDownload(MAX_IN_MEMORY_DOWNLOAD_BYTES + 1, false)).toBe('too-large');
  });

  it('needs the file and some headroom free', () => {
    expect(fitsIn(100, 100 + DISK_HEADROOM_BYTES)).toBe(true);
    expect(fitsIn(101, 100 + DISK_HEADROOM_BYTES)).toBe(false);
  });

  it('a test DOM without OPFS reports no disk downloads', () => {
    expect(diskDownloadsAvailable()).toBe(false);
  });
});
