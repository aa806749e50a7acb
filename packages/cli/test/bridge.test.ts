/**
 * `pigeon bridge` (run, add, list), `pigeon status`, `pigeon doctor --json`, and bridges carried
 * by invite links, with real processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeInviteLink } from '@pigeon/client';
import { decodeBridgeLink } from '@pigeon/transport';
import { LiveProcess, json, pigeon, startRelay, tempDir } from './helpers.js';

async function startBridgeProcess(relayUrl: string, dataDir: string): Promise<{ proc: LiveProcess; link: string; port: number }> {
  const proc = new LiveProcess(['bridge', '--relay', relayUrl, '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--json']);
  const listening = await proc.waitForJson((v) => v.event === 'listening', 30_000);
  return { proc, link: listening.link, port: listening.port };
}

describe('pigeon bridge, status, doctor', () => {
  const dir = tempDir('bridge');
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let bridge: Awaited<ReturnType<typeof startBridgeProcess>>;
  before(async () => {
    relay = await startRelay(join(dir.path, 'relay'));
    bridge = await startBridgeProcess(relay.url, join(dir.path, 'bridge'));
  });
  after(async () => {
    await bridge.proc.stop();
    await relay.proc.stop();
    dir.remove();
  });

  it('keeps the same link across restarts (secret, path and certificate are stored)', async () => {
    await bridge.proc.stop();
    const again = await startBridgeProcess(relay.url, join(dir.path, 'bridge'));
    // The port differs (port 0 picks a new one); what is stored must not.
    const a = decodeBridgeLink(bridge.link);
    const b = decodeBridgeLink(again.link);
    assert.deepEqual([a.secret, a.certSha256, a.path], [b.secret, b.certSha256, b.path]);
    bridge = again;
  });

  it('bridge add before init, status and doctor name the routes, invites carry the bridge', async () => {
    const alice = join(dir.path, 'alice');
    const bob = join(dir.path, 'bob');
    const added = await pigeon(['--profile', alice, 'bridge', 'add', bridge.link, '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(json(added).added.length, 2);
    assert.equal((await pigeon(['--profile', alice, 'init', '--relay', relay.url, '--name', 'Alice'])).code, 0);
    const status = await pigeon(['--profile', alice, 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(json(status).state, 'connected');
    assert.equal(json(status).knownRoutes, 2);
    const doctor = await pigeon(['--profile', alice, 'doctor', '--json', '--timeout', '10']);
    assert.equal(doctor.code, 0, doctor.stderr);
    const rows = doctor.stdout.trim().split('\n').map((l) => JSON.parse(l) as { route: string; ok: boolean; steps: { step: string }[] });
    assert.deepEqual(rows.map((r) => r.route.split(' ')[0]), ['direct', 'bridge', 'tunnel']);
    assert.ok(rows.every((r) => r.ok && r.steps.some((s) => s.step === 'relay')));
    const human = await pigeon(['--profile', alice, 'doctor']);
    assert.match(human.stdout, /WORKS/);

    const invite = await pigeon(['--profile', alice, 'invite', '--json']);
    const link = json(invite).link as string;
    assert.equal(decodeInviteLink(link).routes?.length, 1);
    assert.equal((await pigeon(['--profile', bob, 'init', '--relay', relay.url, '--name', 'Bob'])).code, 0);
    const accepted = await pigeon(['--profile', bob, 'accept', link]);
    assert.equal(accepted.code, 0, accepted.stderr);
    const list = await pigeon(['--profile', bob, 'bridge', 'list', '--json']);
    assert.equal(json(list).routes.length, 2, 'the invite added the bridge and tunnel routes');
    const plain = await pigeon(['--profile', alice, 'invite', '--json', '--no-bridges']);
    assert.equal(decodeInviteLink(json(plain).link).routes, undefined);
  });

  it('bad links are usage-level errors, not crashes', async () => {
    const r = await pigeon(['--profile', join(dir.path, 'carol'), 'bridge', 'add', 'pigeon://bridge/AAAA']);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
