/**
 * Child processes for the end-to-end tests: the relay executable, the `pigeon` CLI and the SDK
 * driver scripts (test/drivers/). Every child is registered so a test file can kill whatever is
 * left in `after()`; output is read line by line and waited on with generous timeouts (a wait
 * that runs out fails the test with the output so far; it is never a timing assertion).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Seen from packages/e2e/dist/test/support/. */
const PACKAGES = new URL('../../../../', import.meta.url);
export const RELAY_BIN = fileURLToPath(new URL('relay/dist/src/bin.js', PACKAGES));
export const CLI_BIN = fileURLToPath(new URL('cli/bin/pigeon.js', PACKAGES));
export const SENDER_DRIVER = fileURLToPath(new URL('../drivers/sender.js', import.meta.url));
export const RECEIVER_DRIVER = fileURLToPath(new URL('../drivers/receiver.js', import.meta.url));

/** Upper bound of any single wait: a fail-safe against a hung test, far above normal latency. */
export const WAIT_MS = 60_000;
/** Output kept per stream for failure messages. */
const MAX_KEPT_OUTPUT = 16_000;

const children = new Set<LiveProcess>();

/** Kills (SIGKILL) every child still running; for `after()` hooks. */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.kill('SIGKILL')));
}

export function tempDir(prefix: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `pigeon-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** An environment without the developer's profile or debug switches leaking in. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PIGEON_HOME;
  delete env.PIGEON_DEBUG;
  delete env.PIGEON_RELAY_DATA;
  delete env.NODE_TEST_CONTEXT; // a child must not think it is a node:test subprocess
  return env;
}

function keepTail(text: string): string {
  return text.length > MAX_KEPT_OUTPUT ? text.slice(text.length - MAX_KEPT_OUTPUT) : text;
}

type Waiter = { readonly match: () => boolean; readonly resolve: () => void; readonly reject: (err: Error) => void };

/**
 * A running node process whose stdout and stderr are split into lines. Lines that parse as JSON
 * objects are also kept in `events`.
 */
export class LiveProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  readonly events: any[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Waiter[] = [];
  private exitSeen = false;

  constructor(
    readonly label: string,
    script: string,
    args: readonly string[],
    extraEnv: Readonly<Record<string, string>> = {},
  ) {
    this.child = spawn(process.execPath, [script, ...args], { env: { ...childEnv(), ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(this);
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    splitLines(this.child.stdout!, (line) => {
      this.lines.push(line);
      if (line.startsWith('{')) {
        try {
          this.events.push(JSON.parse(line));
        } catch {
          // not JSON after all: kept as a plain line
        }
      }
      this.check();
    });
    splitLines(this.child.stderr!, (line) => {
      this.stderr = keepTail(this.stderr + line + '\n');
      this.errLines.push(line);
      this.check();
    });
    this.child.stdin!.on('error', () => undefined); // writing to a child that just died
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exitSeen = true;
        children.delete(this);
        resolve({ code, signal });
        this.check();
        // No more output can come: a wait that is not satisfied now never will be.
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.label} exited (${code ?? signal})\n${this.describe()}`));
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      if (w.match()) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }

  /** Resolves once `condition` holds (checked now and after every line); rejects after timeoutMs. */
  waitUntil(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    if (this.exitSeen) {
      return Promise.reject(new Error(`${this.label} has exited; ${what} will not happen\n${this.describe()}`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match: condition,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(new Error(`${this.label}: gave up waiting for ${what}\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The first JSON event (already seen or future) that matches. */
  async waitForEvent(what: string, match: (e: any) => boolean, timeoutMs = WAIT_MS): Promise<any> {
    await this.waitUntil(what, () => this.events.some(match), timeoutMs);
    return this.events.find(match);
  }

  /** The first stdout or stderr line (already seen or future) that matches. */
  async waitForLine(what: string, pattern: RegExp, timeoutMs = WAIT_MS): Promise<string> {
    const find = () => this.lines.find((l) => pattern.test(l)) ?? this.errLines.find((l) => pattern.test(l));
    await this.waitUntil(what, () => find() !== undefined, timeoutMs);
    return find()!;
  }

  count(match: (e: any) => boolean): number {
    let n = 0;
    for (const e of this.events) if (match(e)) n++;
    return n;
  }

  write(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  describe(): string {
    return `--- ${this.label} stdout (last lines) ---\n${this.lines.slice(-40).join('\n')}\n--- ${this.label} stderr ---\n${this.stderr.slice(-4000)}`;
  }
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      onLine(line);
    }
  });
  stream.on('end', () => {
    if (buffer.length > 0) onLine(buffer);
    buffer = '';
  });
}

// ---- the relay ---------------------------------------------------------------------------------

export interface RelayProcess {
  readonly proc: LiveProcess;
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
}

/**
 * Starts `node packages/relay/dist/src/bin.js --port PORT --data DIR` (port 0 = any free port)
 * and waits for its {"event":"listening"} line. Restart on the same port with the port it printed.
 */
export async function startRelay(dataDir: string, port = 0, extraArgs: readonly string[] = []): Promise<RelayProcess> {
  const proc = new LiveProcess(`relay:${port}`, RELAY_BIN, ['--port', String(port), '--data', dataDir, ...extraArgs]);
  const listening = await Promise.race([
    proc.waitForEvent('the listening line', (e) => e.event === 'listening'),
    proc.exited.then((x) => {
      throw new Error(`the relay exited (${x.code ?? x.signal}) before listening\n${proc.describe()}`);
    }),
  ]);
  const url = String(listening.url);
  const boundPort = Number(new URL(url).port);
  return { proc, url, httpUrl: String(listening.httpUrl), port: boundPort };
}

// ---- the pigeon CLI ------------------------------------------------------------------------------

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pigeon ...args` to completion (with a fail-safe timeout). */
export function pigeon(args: readonly string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pigeon ${args.join(' ')} did not finish\nstdout=${stdout}\nstderr=${stderr}`));
    }, WAIT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Runs a pigeon command that must succeed and returns its last stdout line parsed as JSON. */
export async function pigeonJson(args: readonly string[], input = ''): Promise<any> {
  const r = await pigeon([...args, '--json'], input);
  if (r.code !== 0) throw new Error(`pigeon ${args.join(' ')} exited ${r.code}\nstdout=${r.stdout}\nstderr=${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

/** A long-running `pigeon ...args` (chat, listen). */
export function livePigeon(label: string, args: readonly string[]): LiveProcess {
  return new LiveProcess(label, CLI_BIN, args);
}
