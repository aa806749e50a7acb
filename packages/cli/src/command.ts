import type { Io, Output } from './io.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

export interface CommandContext {
  readonly io: Io;
  readonly out: Output;
  /** The profile directory (--profile, $PIGEON_HOME, ~/.pigeon). */
  readonly home: string;
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /** Resolves when the user asks the command to stop (SIGINT/SIGTERM). */
  readonly interrupted: Promise<void>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** The full --help text (without the common options, which main appends). */
  readonly help: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments: [min, max] (max Infinity for "rest of the line"). */
  readonly positionals: readonly [number, number];
  run(ctx: CommandContext): Promise<number>;
}

export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  profile: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const COMMON_HELP = `Common options:
  --profile DIR   profile directory (default: $PIGEON_HOME or ~/.pigeon)
  --json          machine-readable output (one JSON object per line)
  -h, --help      show this help`;

export function stringOpt(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** --timeout SECONDS as milliseconds. */
export function timeoutMs(values: CommandContext['values'], fallbackSeconds = 10): number {
  const raw = stringOpt(values, 'timeout');
  if (raw === undefined) return fallbackSeconds * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new TypeError('--timeout must be a number of seconds between 0 and 3600');
  }
  return Math.round(seconds * 1000);
}
