/**
 * What every implementation under test provides, so the harness can run them side by side
 * with the same clock, message sizes and store discipline.
 *
 * Store discipline (the point of the comparison): session state lives in a store as bytes and
 * is decoded before and encoded after EVERY message, as an app that survives a crash must do.
 */
export interface Contender {
  /** Row label in the report, e.g. "pigeon (node)". */
  readonly name: string;
  /**
   * One complete session setup: fetch the responder's bundle from the in-memory relay, process
   * it, encrypt the first 100-byte message, decrypt it at the responder. Fresh keys for the
   * next setup are made outside the clock. Returns the clocked time.
   */
  setup(): Promise<Clocked>;
  /** A new pair of devices with a session both ways (first reply done, so no prekey messages). */
  newConversation(): Promise<Conversation>;
}

export interface Conversation {
  /** A encrypts `count` messages, then B decrypts them in order. */
  oneWay(count: number): Promise<void>;
  /** `count` messages alternating A->B, B->A: each one starts a new DH ratchet step. */
  pingPong(count: number): Promise<void>;
}

/** Wall time and this process's CPU time (user + system) of a clocked region. */
export interface Clocked {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * Starts a clock; calling the result stops it. CPU time is kept beside wall time because on a
 * shared 2-core machine a descheduled process loses wall time but not CPU time: ratios per
 * CPU-second stay meaningful when other work disturbs the run.
 */
export function startClock(): () => Clocked {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
  };
}

/** Plaintext size of every benchmark message (a typical short chat message). */
export const MESSAGE_BYTES = 100;

export class BenchCheckError extends Error {
  override readonly name = 'BenchCheckError';
}

export function assertSameBytes(expected: Uint8Array, actual: Uint8Array, what: string): void {
  if (expected.length !== actual.length || expected.some((b, i) => actual[i] !== b)) {
    throw new BenchCheckError(`${what}: decrypted bytes differ from what was sent`);
  }
}

/**
 * Plaintexts are drawn from a pool made once, so random generation stays out of the clock
 * and costs every contender the same.
 */
const PLAINTEXT_POOL_SIZE = 64;
const plaintextPool: Uint8Array<ArrayBuffer>[] = Array.from({ length: PLAINTEXT_POOL_SIZE }, () =>
  crypto.getRandomValues(new Uint8Array(MESSAGE_BYTES)),
);
let plaintextCursor = 0;
export function nextPlaintext(): Uint8Array<ArrayBuffer> {
  plaintextCursor = (plaintextCursor + 1) % PLAINTEXT_POOL_SIZE;
  return plaintextPool[plaintextCursor]!;
}
