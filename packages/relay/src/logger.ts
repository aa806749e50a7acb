/**
 * Structured logging. By design the relay never passes secrets, keys, tokens, envelopes or
 * client IP addresses to the logger (DESIGN.md "no IP logs by default"); fields are counts,
 * codes and durations.
 */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export interface RelayLogger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export const silentLogger: RelayLogger = { info() {}, warn() {}, error() {} };

/** One JSON object per line on the given stream (stderr for the executable). */
export function jsonLineLogger(write: (line: string) => void): RelayLogger {
  const log = (level: string) => (event: string, fields?: LogFields) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n');
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
