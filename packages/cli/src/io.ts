/** Where the CLI writes: injectable so tests can run commands in-process too. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  readonly isTty: boolean;
}

export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdin: process.stdin,
    isTty: Boolean(process.stdout.isTTY),
  };
}

/** Output in the mode the user asked for: human lines, or JSON for scripts. */
export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** A human line (suppressed in --json mode). */
  line(text = ''): void {
    if (!this.json) this.io.stdout(text + '\n');
  }

  /** One JSON document on one line (only in --json mode). */
  data(value: unknown): void {
    if (this.json) this.io.stdout(JSON.stringify(value) + '\n');
  }

  /** Human diagnostics on stderr, also in --json mode (stdout stays machine-readable). */
  note(text: string): void {
    this.io.stderr(text + '\n');
  }
}
