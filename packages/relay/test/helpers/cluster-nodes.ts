/** Relay node processes (bin.js) for cluster tests, and readers of their admin endpoints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/bin.js', import.meta.url));

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  readonly nodeId: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process exits. */
  alive(): boolean;
  /** The last log lines (stderr), for failure messages. */
  log(): string;
}

const LOG_LINES_KEPT = 200;
const running = new Set<ChildProcess>();

/** Starts `node bin.js args... --admin-port 0` and waits for its listening line. */
export async function startNode(args: readonly string[]): Promise<NodeProcess> {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--admin-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let alive = true;
  const logLines: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    logLines.push(line);
    if (logLines.length > LOG_LINES_KEPT) logLines.shift();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then(({ code }) => reject(new Error(`relay exited (${code}) before listening: ${logLines.join('\n')}`)));
  });
  const event = JSON.parse(first) as { event: string; url: string; adminUrl: string; node: string };
  if (event.event !== 'listening') throw new Error(`unexpected first line ${first}`);
  return { child, url: event.url, adminUrl: event.adminUrl, nodeId: event.node, exited, alive: () => alive, log: () => logLines.join('\n') };
}

/** SIGKILLs every node process still running (for after/finally). */
export function killAllNodes(): void {
  for (const c of running) c.kill('SIGKILL');
}

export async function stopNode(node: NodeProcess): Promise<void> {
  if (!node.alive()) return;
  node.child.kill('SIGTERM');
  await node.exited;
}

/** Parses Prometheus text into "name{labels}" -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

export async function scrape(node: NodeProcess): Promise<Map<string, number>> {
  const res = await fetch(new URL('metrics', node.adminUrl));
  return parseMetrics(await res.text());
}

export async function health(node: NodeProcess): Promise<{ status: number; body: { status: string; store: string; bus: string } }> {
  const res = await fetch(new URL('healthz', node.adminUrl));
  return { status: res.status, body: (await res.json()) as { status: string; store: string; bus: string } };
}

/** Polls `check` until it is true; the limit is a fail-safe against a hung test, not a timing assertion. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
