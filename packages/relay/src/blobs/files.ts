/**
 * Blob bytes in files (BlobBytes): one file per blob, `<dir>/<blobId hex>.blob`, mode 0600.
 * Written only by positional writes from the committed offset (never appended blindly), so bytes
 * of an interrupted, uncommitted write are simply overwritten by the resumed upload.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobBytes, BlobWriter } from './bytes.js';

const SUFFIX = '.blob';

export class BlobFiles implements BlobBytes {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  path(blobIdHex: string): string {
    return join(this.dir, blobIdHex + SUFFIX);
  }

  async openWriter(blobIdHex: string, offset: number): Promise<BlobWriter> {
    const fh = await open(this.path(blobIdHex), constants.O_RDWR | constants.O_CREAT, 0o600);
    let position = offset;
    return {
      async write(buf) {
        let written = 0;
        while (written < buf.length) written += (await fh.write(buf, written, buf.length - written, position + written)).bytesWritten;
        position += buf.length;
      },
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  }

  async truncate(blobIdHex: string, size: number): Promise<void> {
    const fh = await open(this.path(blobIdHex), constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      await fh.truncate(size);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async read(blobIdHex: string, start: number, end: number): Promise<AsyncIterable<Uint8Array> | undefined> {
    const stream = createReadStream(this.path(blobIdHex), { start, end, highWaterMark: 256 * 1024 });
    // Opened before the caller answers, so a file deleted a moment ago is "not found", not a broken reply.
    const opened = await new Promise<boolean>((resolve) => {
      stream.once('open', () => resolve(true));
      stream.once('error', () => resolve(false));
    });
    if (!opened) {
      stream.destroy();
      return undefined;
    }
    return stream;
  }

  async sha256(blobIdHex: string, size: number): Promise<Uint8Array> {
    const hash = createHash('sha256');
    if (size > 0) {
      for await (const chunk of createReadStream(this.path(blobIdHex), { start: 0, end: size - 1, highWaterMark: 1024 * 1024 })) {
        hash.update(chunk as Buffer);
      }
    }
    return hash.digest();
  }

  async remove(blobIdHex: string): Promise<void> {
    try {
      await unlink(this.path(blobIdHex));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async removeOrphans(known: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const id of await this.list()) {
      if (!known.has(id)) {
        await this.remove(id);
        removed++;
      }
    }
    return removed;
  }

  /** Blob ids (hex) of every file in the directory. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
  }
}
