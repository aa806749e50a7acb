/**
 * The executable over real processes: the `listening` line, clean exit on SIGTERM, and crash
 * safety: killed with SIGKILL and restarted on the same data directory, the relay has lost
 * nothing it acknowledged (ok is sent only after the commit).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { TestClient } from './helpers/client.js';
import { authenticated, hex, randomId, randomToken, registered, sendTo, setTokens } from './helpers/harness.js';

const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url));

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly httpUrl: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startBin(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  child.stderr!.resume();
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then(({ code }) => reject(new Error(`relay exited (${code}) before listening`)));
  });
  const event = JSON.parse(first) as { event: string; url: string; httpUrl: string };
  assert.equal(event.event, 'listening');
  assert.match(event.url, /^ws:\/\/127\.0\.0\.1:\d+\/pigeon$/);
  assert.match(event.httpUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  return { child, url: event.url, httpUrl: event.httpUrl, exited };
}

describe('relay executable', () => {
  it('prints the listening line and exits cleanly on SIGTERM', async () => {
    const relay = await startBin(['--port', '0', '--quiet']);
    const res = await fetch(relay.httpUrl);
    assert.equal(res.status, 200);
    relay.child.kill('SIGTERM');
    assert.deepStrictEqual(await relay.exited, { code: 0, signal: null });
  });

  it('refuses bad flags with exit code 2', async () => {
    const child = spawn(process.execPath, [BIN, '--port', 'abc'], { stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
  });

  it('loses no acknowledged message when killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pigeon-relay-'));
    dirs.push(dir);
    const first = await startBin(['--port', '0', '--data', dir, '--quiet']);
    const token = randomToken();
    const bob = await registered(first.url);
    await setTokens(bob.client, [token]);
    await bob.client.close();

    const sender = await TestClient.connect(first.url);
    const acked: string[] = [];
    // Pipeline sends and kill the process while some are still in flight: every `ok` that
    // arrived before the kill must survive it.
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const id = randomId();
      inFlight.push(
        sendTo(sender, bob.device, token, new Uint8Array([i & 0xff, i >> 8]), id).then(
          (reply) => {
            if (reply.type === 'ok') acked.push(hex(id));
          },
          () => {},
        ),
      );
      if (i === 200) {
        await inFlight[150];
        first.child.kill('SIGKILL');
      }
    }
    assert.equal((await first.exited).signal, 'SIGKILL');
    await sender.closed;
    await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 100))]);
    const ackedBeforeKill = new Set(acked);
    assert.ok(ackedBeforeKill.size >= 150);

    const second = await startBin(['--port', '0', '--data', dir, '--quiet']);
    const client = await authenticated(second.url, bob.device);
    const received = new Set<string>();
    for (;;) {
      const f = await client.next((x) => x.type === 'deliver' || x.type === 'queue_empty');
      if (f.type === 'queue_empty') break;
      if (f.type === 'deliver') {
        received.add(hex(f.messageId));
        client.sendFrame({ type: 'ack', id: client.id(), messageIds: [f.messageId] }); // keeps the window moving
      }
    }
    for (const id of ackedBeforeKill) assert.ok(received.has(id), `acknowledged message ${id} lost`);
    await client.close();
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
  });
});
