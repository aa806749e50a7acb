/**
 * HTTP Range parsing for blob downloads (RFC 9110 section 14). One byte range per request:
 * clients fetch a large blob as several ranged GETs; multipart/byteranges is not offered.
 */

export interface ByteRange {
  /** inclusive */
  readonly start: number;
  /** inclusive */
  readonly end: number;
}

/**
 * undefined: no Range header (serve everything); 'unsatisfiable': malformed, several ranges, or
 * outside the blob; otherwise the clamped range.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return 'unsatisfiable';
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return 'unsatisfiable';
  if (first.length > 15 || last.length > 15) return 'unsatisfiable';
  if (first === '') {
    // suffix range: the last N bytes
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return 'unsatisfiable';
  return { start, end };
}
