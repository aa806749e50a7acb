import { ClientError } from '@pigeon/client';

/** Exit codes: 0 success, 1 the command failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A wrong command line: unknown option, missing argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

export interface DescribedError {
  readonly code: string;
  readonly message: string;
  readonly exitCode: number;
}

/** One clear line per failure; never a stack trace (PIGEON_DEBUG=1 shows it for developers). */
export function describeError(err: unknown): DescribedError {
  if (err instanceof UsageError) {
    const hint = err.command ? ` (see: pigeon ${err.command} --help)` : ' (see: pigeon --help)';
    return { code: 'USAGE', message: err.message + hint, exitCode: EXIT_USAGE };
  }
  if (err instanceof ClientError) return { code: err.code, message: err.message, exitCode: EXIT_FAILURE };
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
    return { code: (err as unknown as { code: string }).code, message: err.message, exitCode: EXIT_FAILURE };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), exitCode: EXIT_FAILURE };
}
