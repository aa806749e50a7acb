/**
 * Where blob bytes live: one file per blob, `<dir>/<blobId hex>.blob`, mode 0600. Written only
 * by positional writes at the committed offset (never appended blindly), so bytes of an
 * interrupted, uncommitted write are simply overwritten by the resumed upload.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SUFFIX = '.blob';

export class BlobFiles {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  path(blobIdHex: string): string {
    return join(this.dir, blobIdHex + SUFFIX);
  }

  /** Opens (creating if missing) for positional writes. */
  openForWrite(blobIdHex: string): Promise<FileHandle> {
    return open(this.path(blobIdHex), constants.O_RDWR | constants.O_CREAT, 0o600);
  }

  /** Deletes the file; a missing file is not an error. */
  async remove(blobIdHex: string): Promise<void> {
    try {
      await unlink(this.path(blobIdHex));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /** SHA-256 of the first `size` bytes, streamed (a 2 GiB blob never sits in memory). */
  async sha256(blobIdHex: string, size: number): Promise<Uint8Array> {
    const hash = createHash('sha256');
    if (size > 0) {
      for await (const chunk of createReadStream(this.path(blobIdHex), { start: 0, end: size - 1, highWaterMark: 1024 * 1024 })) {
        hash.update(chunk as Buffer);
      }
    }
    return hash.digest();
  }

  /** Blob ids (hex) of every file in the directory. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
  }
}
