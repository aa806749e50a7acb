/**
 * Small checks and error mappings shared by the client core (core/*.ts) and its feature modules.
 */
import { RelayError } from '@pigeon/api';
import type { RelayFrame } from '@pigeon/api';
import { utf8 } from '@pigeon/crypto';
import { ProtocolError } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import { MAX_NAME_BYTES } from '../limits.js';

/** A trimmed display or contact name: non-empty, at most MAX_NAME_BYTES, no control characters. */
export function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new ClientError('BAD_ARGUMENT', `${what} must not be empty`);
  if (utf8.encode(trimmed).length > MAX_NAME_BYTES) throw new ClientError('BAD_ARGUMENT', `${what} is longer than ${MAX_NAME_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new ClientError('BAD_ARGUMENT', `${what} contains control characters`);
  return trimmed;
}

/** The `code` of a typed error, for logs (never the message text). */
export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
}

/** Maps transport/relay failures to the client's error model. */
export function asClientError(err: unknown, what: string): Error {
  if (err instanceof ClientError) return err;
  if (err instanceof RelayError) return new ClientError('RELAY_REJECTED', `the relay refused ${what}: ${err.code}`, { cause: err });
  if (err instanceof ProtocolError) return new ClientError('RELAY_REJECTED', `invalid data from the relay during ${what}: ${err.code}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

export function expectOk(frame: RelayFrame, what: string): void {
  if (frame.type !== 'ok') throw new ClientError('RELAY_REJECTED', `unexpected ${frame.type} reply to ${what}`);
}
