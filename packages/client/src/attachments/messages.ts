/**
 * How attachment messages live in the local store, without a schema change: the message row's
 * text is a human summary ("[file] report.pdf (1.2 MB)"), and the reference (with its key) is
 * kept in the state table under `attachment.<message id>`, written in the same transaction as
 * the message row. Platform-neutral.
 */
import { defaultBlobPath } from '@pigeon/api';
import { fromHex, toHex } from '@pigeon/crypto';
import type { ClientStore } from '../store/types.js';
import { decodeReference, encodeReference, type AttachmentInfo, type AttachmentReference } from './reference.js';

const STATE_PREFIX = 'attachment.';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function describeAttachment(ref: AttachmentReference, caption: string): string {
  const summary = `[file] ${ref.fileName} (${formatBytes(ref.size)})`;
  return caption.length > 0 ? `${summary} ${caption}` : summary;
}

/** The caption back from a message's text (describeAttachment's output for this reference). */
export function captionFromText(ref: AttachmentReference, text: string): string {
  const summary = describeAttachment(ref, '');
  return text.startsWith(summary) && text.length > summary.length ? text.slice(summary.length + 1) : '';
}

/** Must run inside the store transaction that inserts the message. */
export function storeReference(store: ClientStore, messageId: string, ref: AttachmentReference): void {
  store.setState(STATE_PREFIX + messageId, toHex(encodeReference(ref)));
}

export function loadReference(store: ClientStore, messageId: string): AttachmentReference | undefined {
  const value = store.getState(STATE_PREFIX + messageId);
  return value === undefined ? undefined : decodeReference(fromHex(value));
}

export function infoOf(ref: AttachmentReference): AttachmentInfo {
  return { fileName: ref.fileName, contentType: ref.contentType, size: ref.size };
}

/** ws://host:port/pigeon -> http://host:port/pigeon/blobs (the relay's default blob path). */
export function blobBaseUrlFor(relayUrl: string): string {
  const url = new URL(relayUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = defaultBlobPath(url.pathname);
  url.search = '';
  url.hash = '';
  return url.href;
}
