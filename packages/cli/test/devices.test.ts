import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertCleanError, LiveProcess, NO_STACK, json, pigeon, startRelay, tempDir } from './helpers.js';

const root = tempDir('devices');
after(() => root.remove());
const profile = (name: string) => ['--profile', join(root.path, name)];


describe('pigeon link / devices: usage', () => {
  it('has --help and refuses bad command lines with exit 2', async () => {
    assert.match((await pigeon(['link', '--help'])).stdout, /pigeon devices add <code>/);
    assert.match((await pigeon(['devices', '--help'])).stdout, /pigeon devices remove <device-id>/);
    assertCleanError(await pigeon(['link', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['devices', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['devices', 'fly', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['devices', 'add', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['devices', 'list', 'extra', ...profile('nobody')]), 2);
    const missing = await pigeon(['devices', 'list', '--json', ...profile('nobody')]);
    assert.equal(json(missing).error.code, 'NOT_INITIALIZED');
  });
});

describe('pigeon link and devices with a relay process', () => {
  let relay: { proc: LiveProcess; url: string };
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
    for (const name of ['Alice', 'Bob']) assert.equal((await pigeon(['init', '--relay', relay.url, '--name', name, ...profile(name.toLowerCase())])).code, 0);
    const link = json(await pigeon(['invite', '--json', ...profile('alice')])).link as string;
    assert.equal((await pigeon(['accept', link, ...profile('bob')])).code, 0);
    assert.equal((await pigeon(['inbox', ...profile('alice')])).code, 0);
  });
  after(async () => {
    assert.equal(await relay.proc.stop(), 0);
  });

  it('links a new device, lists it, delivers to both, removes it', async () => {
    const one = json(await pigeon(['devices', 'list', '--json', ...profile('alice')])).devices;
    assert.equal(one.length, 1);
    assert.equal(one[0].current, true);

    const linking = new LiveProcess(['link', '--relay', relay.url, '--yes', '--json', ...profile('laptop')]);
    const code = (await linking.waitForJson((v) => v.event === 'link_code')).linkCode as string;
    assert.match(code, /^pigeon:\/\/link\//);
    const added = await pigeon(['devices', 'add', code, '--json', ...profile('alice')]);
    assert.equal(added.code, 0, added.stderr);
    const confirm = await linking.waitForJson((v) => v.event === 'confirm');
    assert.equal(confirm.confirmationCode, json(added).device.confirmationCode);
    assert.equal(confirm.pigeonId, json(added).device.pigeonId);
    const linked = await linking.waitForJson((v) => v.event === 'linked');
    assert.equal(await linking.exited, 0, linking.stderr);
    const laptopId = linked.profile.deviceId as string;

    const two = json(await pigeon(['devices', 'list', '--json', ...profile('alice')])).devices;
    assert.deepEqual(two.map((d: { id: string }) => d.id).sort(), [json(await pigeon(['whoami', '--json', ...profile('alice')])).deviceId, laptopId].sort());
    const human = await pigeon(['devices', 'list', ...profile('alice')]);
    assert.match(human.stdout, /this device, holds the account key/);

    // The laptop cannot link or remove devices: it does not hold the account key.
    const refused = await pigeon(['devices', 'remove', laptopId, '--json', ...profile('laptop')]);
    assert.equal(json(refused).error.code, 'ACCOUNT_KEY_REQUIRED');
    const again = await pigeon(['link', '--relay', relay.url, '--json', ...profile('laptop')]);
    assert.equal(json(again).error.code, 'ALREADY_INITIALIZED');

    // Bob learns the new list (inbox), then his message reaches both of Alice's devices.
    assert.equal((await pigeon(['inbox', ...profile('bob')])).code, 0);
    assert.equal((await pigeon(['send', 'Alice', 'to both', ...profile('bob')])).code, 0);
    for (const device of ['alice', 'laptop']) {
      const inbox = json(await pigeon(['inbox', '--json', ...profile(device)]));
      assert.deepEqual(inbox.messages.map((m: { text: string }) => m.text), ['to both'], device);
    }
    // What the laptop sends shows on the first device too.
    assert.equal((await pigeon(['send', 'Bob', 'from the laptop', ...profile('laptop')])).code, 0);
    const chatLog = json(await pigeon(['inbox', '--json', ...profile('alice')]));
    assert.deepEqual(chatLog.messages, []);

    const removed = await pigeon(['devices', 'remove', laptopId.slice(0, 8), '--json', ...profile('alice')]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(json(removed).devices.length, 1);
    const unknown = await pigeon(['devices', 'remove', 'ffffffff', '--json', ...profile('alice')]);
    assert.equal(json(unknown).error.code, 'UNKNOWN_DEVICE');
  });

  it('a bad link code is BAD_LINK', async () => {
    const bad = await pigeon(['devices', 'add', 'pigeon://link/AAAA', '--json', ...profile('alice')]);
    assert.equal(json(bad).error.code, 'BAD_LINK');
    assertCleanError(bad);
  });
});
