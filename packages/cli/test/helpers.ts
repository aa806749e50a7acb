import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/cli/bin/pigeon.js, seen from packages/cli/dist/test/. */
export const BIN = fileURLToPath(new URL('../../bin/pigeon.js', import.meta.url));

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `pigeon-cli-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A clean environment: no PIGEON_HOME leaking in from the developer's shell. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.PIGEON_HOME;
  delete e.PIGEON_DEBUG;
  return e;
}

/** Runs `pigeon ...args` to completion. */
export function pigeon(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Parses the last stdout line as JSON (commands print one JSON object with --json). */
export function json(result: Result): any {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

/** A long-running pigeon process (relay, listen) whose stdout is read line by line. */
export class LiveProcess {
  readonly child: ChildProcess;
  private buffer = '';
  readonly lines: string[] = [];
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.child.stdout!.on('data', (d: Buffer) => {
      this.buffer += d.toString('utf8');
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          if (w.match(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Resolves with the first line (already seen or future) that matches. */
  waitForLine(match: (line: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line; stdout=${this.lines.join('|')} stderr=${this.stderr}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  waitForJson(match: (value: any) => boolean, timeoutMs?: number): Promise<any> {
    const parse = (line: string) => {
      try {
        return JSON.parse(line);
      } catch {
        return undefined;
      }
    };
    return this.waitForLine((line) => {
      const v = parse(line);
      return v !== undefined && match(v);
    }, timeoutMs).then(parse);
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Starts `pigeon relay --port N --json` and reads its URL. */
export async function startRelay(dataDir: string, port = 0): Promise<{ proc: LiveProcess; url: string; port: number }> {
  const proc = new LiveProcess(['relay', '--port', String(port), '--json', '--quiet', '--data', dataDir]);
  const listening = await proc.waitForJson((v) => v.event === 'listening');
  return { proc, url: listening.url, port: listening.port };
}

export const NO_STACK = /\n\s+at /;

/** A refused command line or failed command: the expected exit code and one `pigeon: ` line, no stack. */
export function assertCleanError(r: { code: number | null; stderr: string }, exitCode = 1): void {
  assert.equal(r.code, exitCode, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, /^pigeon: /);
  assert.doesNotMatch(r.stderr, NO_STACK);
}
