/**
 * Starts a server process that prints one JSON line {"event":"listening","url":...} on stdout
 * (the relay's bin and the bare forwarder), with the open-files limit raised to the hard limit
 * (~20k here) in the child, and stops it again (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How long a server may take to print its listening line. */
const START_TIMEOUT_MS = 60_000;
/** How long a server may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** The relay's /metrics + /healthz base URL when started with --admin-port. */
  readonly adminUrl: string | undefined;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export async function spawnServer(args: readonly string[], label: string): Promise<ServerProcess> {
  // `exec` keeps the pid: the pid we hold is the server's, so RSS and CPU are read from it.
  const command = `ulimit -n "$(ulimit -Hn)"; exec ${[process.execPath, ...args].map(quote).join(' ')}`;
  const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  let adminUrl: string | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: not listening after ${START_TIMEOUT_MS} ms; ${stderr.slice(0, 500)}`)), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string; adminUrl?: string };
        adminUrl = msg.adminUrl;
        if (msg.event === 'listening' && typeof msg.url === 'string') {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code} before listening: ${stderr.slice(0, 800)}`));
    });
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return { pid: child.pid!, url, adminUrl, child, stop };
}
