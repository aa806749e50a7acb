/**
 * The GFW's fully-encrypted-traffic heuristic, from Wu et al., "How the Great Firewall of China
 * Detects and Blocks Fully Encrypted Traffic", USENIX Security 2023, §4 (exemption rules Ex1-Ex5).
 *
 * The GFW looks at the first data packet a client sends on a TCP connection and lets the connection
 * alone if ANY exemption holds; a packet that fits none (it looks uniformly random) is blocked.
 */

/** Ex1: average set bits per byte at or below this is exempt (random data averages 4). */
export const FET_POPCOUNT_LOW = 3.4;
/** Ex1: average set bits per byte at or above this is exempt. */
export const FET_POPCOUNT_HIGH = 4.6;
/** Ex2: this many leading bytes all printable is exempt. */
export const FET_PRINTABLE_PREFIX = 6;
/** Ex3: more than this fraction of printable bytes is exempt. */
export const FET_PRINTABLE_FRACTION = 0.5;
/** Ex4: a run of MORE than this many contiguous printable bytes is exempt. */
export const FET_PRINTABLE_RUN = 20;

export type FetExemption =
  | 'ex1-popcount' // average popcount per byte <= 3.4 or >= 4.6
  | 'ex2-printable-prefix' // first 6 bytes printable (0x20-0x7e)
  | 'ex3-printable-fraction' // more than half the bytes printable
  | 'ex4-printable-run' // more than 20 contiguous printable bytes
  | 'ex5-protocol-prefix'; // starts like TLS ([\x16-\x17]\x03[\x00-\x09]) or an HTTP method

export interface FetVerdict {
  /** True when some exemption applies; false means "looks fully encrypted: block". */
  readonly exempt: boolean;
  /** The first exemption that applied, in the paper's order. */
  readonly exemption: FetExemption | undefined;
  readonly popcountPerByte: number;
  readonly printableFraction: number;
  readonly longestPrintableRun: number;
}

function isPrintable(b: number): boolean {
  return b >= 0x20 && b <= 0x7e;
}

function popcount8(b: number): number {
  let n = b - ((b >> 1) & 0x55);
  n = (n & 0x33) + ((n >> 2) & 0x33);
  return (n + (n >> 4)) & 0x0f;
}

/** HTTP method prefixes the paper lists for Ex5 (first 3-4 bytes). */
const HTTP_PREFIXES = ['GET ', 'PUT ', 'POST', 'HEAD', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH'].map((m) =>
  Uint8Array.from(m.slice(0, 4), (c) => c.charCodeAt(0)),
);

function startsLikeTlsOrHttp(bytes: Uint8Array): boolean {
  const [a, b, c] = bytes;
  if (a !== undefined && b !== undefined && c !== undefined && (a === 0x16 || a === 0x17) && b === 0x03 && c <= 0x09) return true;
  return HTTP_PREFIXES.some((p) => p.length <= bytes.length && p.every((v, i) => bytes[i] === v));
}

export function classifyFirstPacket(bytes: Uint8Array): FetVerdict {
  let bits = 0;
  let printable = 0;
  let run = 0;
  let longest = 0;
  for (const b of bytes) {
    bits += popcount8(b);
    if (isPrintable(b)) {
      printable++;
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  const n = bytes.length;
  const popcountPerByte = n === 0 ? 0 : bits / n;
  const printableFraction = n === 0 ? 0 : printable / n;
  let exemption: FetExemption | undefined;
  if (n === 0 || popcountPerByte <= FET_POPCOUNT_LOW || popcountPerByte >= FET_POPCOUNT_HIGH) exemption = 'ex1-popcount';
  else if (n >= FET_PRINTABLE_PREFIX && bytes.subarray(0, FET_PRINTABLE_PREFIX).every(isPrintable)) exemption = 'ex2-printable-prefix';
  else if (printableFraction > FET_PRINTABLE_FRACTION) exemption = 'ex3-printable-fraction';
  else if (longest > FET_PRINTABLE_RUN) exemption = 'ex4-printable-run';
  else if (startsLikeTlsOrHttp(bytes)) exemption = 'ex5-protocol-prefix';
  return { exempt: exemption !== undefined, exemption, popcountPerByte, printableFraction, longestPrintableRun: longest };
}
