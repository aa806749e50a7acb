import { ProtocolError } from './errors.js';

/** Every encoding starts with a version byte; an unexpected one is UNKNOWN_VERSION, not garbage. */
export function expectVersion(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new ProtocolError('UNKNOWN_VERSION', `${what}: unknown version ${actual}`);
}

/** Wraps anything thrown by a lower layer so callers only ever see ProtocolError. */
export function asProtocolError(error: unknown, fallback: ProtocolError['code'], message: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  return new ProtocolError(fallback, message, { cause: error });
}
