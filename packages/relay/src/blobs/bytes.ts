/**
 * Where blob bytes live, behind one interface: files on the node's disk (files.ts, one relay or
 * a single node) or rows in PostgreSQL (postgres-blob-bytes.ts, a cluster, where any node must
 * serve any blob). The service (service.ts) writes only from a blob's committed length, so bytes
 * of an interrupted, uncommitted write are dropped or overwritten by the resumed upload.
 */
export interface BlobWriter {
  /** Appends at the writer's position. */
  write(bytes: Buffer): Promise<void>;
  /** Makes everything written durable (before the committed length is recorded). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface BlobBytes {
  init(): Promise<void>;
  /** A writer at `offset`, the committed length; what lies beyond it is stale and goes. */
  openWriter(blobIdHex: string, offset: number): Promise<BlobWriter>;
  /** Cuts the bytes to `size`, durably (finalize). */
  truncate(blobIdHex: string, size: number): Promise<void>;
  /** Bytes `start`..`end` (inclusive), or undefined when nothing of the blob is stored. */
  read(blobIdHex: string, start: number, end: number): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** SHA-256 of the first `size` bytes, streamed (a 2 GiB blob never sits in memory). */
  sha256(blobIdHex: string, size: number): Promise<Uint8Array>;
  /** Deletes the bytes; missing bytes are not an error. */
  remove(blobIdHex: string): Promise<void>;
  /** Deletes bytes whose blob has no record (left by a crash); returns how many blobs. */
  removeOrphans(known: ReadonlySet<string>): Promise<number>;
}
