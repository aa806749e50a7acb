/**
 * The group benchmark's members, in their own process so their work never counts as the
 * sender's CPU time. Two kinds:
 * - light members: protocol-level devices (account + device keys, a signed and a last-resort
 *   KEM prekey, a delivery token) registered at the relay over the real api frames; they hand
 *   out an invite link, ack every delivery and count who got one. They never decrypt or answer.
 * - real members: full SDK clients (@pigeon/client, SQLite profiles) that decrypt the group
 *   message and check its text; each writes to the sender first so the sender's sessions
 *   with them are answered, as between people who talk.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { decodeRelayFrame, encodeClientFrame } from '@pigeon/api';
import { defaultBackend } from '@pigeon/crypto';
import * as protocol from '@pigeon/protocol';
import { PigeonClient, encodeInviteLink } from '@pigeon/client';
import type { PigeonLink } from '../common/pigeon-link.js';
import { registerBenchDevice } from '../delivery/register-device.js';
import type { FromMembers, ToMembers } from './ipc.js';

/** Light members registering at once (key generation here, signature checks at the relay). */
const REGISTER_CONCURRENCY = 32;
const TOKEN_BYTES = 32;

interface LightMember {
  readonly connection: PigeonLink;
  /** A delivery arrived since the last `expect`. */
  got: boolean;
}

const crypto = defaultBackend();
const codec = { encodeClientFrame, decodeRelayFrame };
const light: LightMember[] = [];
const real: { client: PigeonClient; got: boolean; name: string }[] = [];
let label = '';
/** Light members in the group being measured (the first ones). */
let inGroup = 0;

function reply(message: FromMembers): void {
  process.send?.(message);
}

async function registerLight(url: string, index: number): Promise<{ link: string; deviceId: string }> {
  const { account, id, token, connection } = await registerBenchDevice(url, { protocol, crypto, codec }, TOKEN_BYTES);
  const member: LightMember = { connection, got: false };
  // The link acks every delivery at once (the mailbox must drain: welcome and cards are big); count what arrives.
  connection.onDeliver = () => {
    member.got = true;
  };
  // By index: the coordinator's groups take the first light members of its (index-ordered) links.
  light[index] = member;
  const link = encodeInviteLink({ relayUrl: url, accountKey: account.signing.publicKey, deliveryToken: token, displayName: `m${index}`, inviteSecret: new Uint8Array(randomBytes(16)) });
  return { link, deviceId: Buffer.from(id).toString('hex') };
}

async function setup(message: Extract<ToMembers, { type: 'setup' }>): Promise<void> {
  const start = performance.now();
  const links: string[] = [];
  const realIds: string[] = [];
  for (let i = 0; i < message.real; i++) {
    const name = `real${i}`;
    const client = await PigeonClient.open({ home: join(message.home, name) });
    const profile = await client.init({ relayUrl: message.url, displayName: name });
    await client.connect();
    // Only the sender's work is measured: members send no delivery receipts back.
    client.setReceiptSettings({ deliveryReceipts: false, readReceipts: false });
    const member = { client, got: false, name };
    client.groups.on('message', (m) => {
      if (m.text === label) member.got = true;
    });
    real.push(member);
    links.push((await client.createInvite()).link);
    realIds.push(profile.accountId);
  }
  const lightLinks: string[] = new Array<string>(message.light);
  const lightDeviceIds: string[] = new Array<string>(message.light);
  let next = 0;
  const worker = async () => {
    while (next < message.light) {
      const i = next++;
      const registered = await registerLight(message.url, i);
      lightLinks[i] = registered.link;
      lightDeviceIds[i] = registered.deviceId;
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, message.light) }, worker));
  reply({ type: 'ready', links: [...links, ...lightLinks], realIds, lightDeviceIds, ms: performance.now() - start });
}

/** Each real member writes to the sender once: the sender's sessions with them are then answered. */
async function greet(senderId: string): Promise<void> {
  for (const r of real) {
    await r.client.send(senderId, `hello from ${r.name}`);
    await r.client.flush();
  }
  reply({ type: 'greeted' });
}

process.on('message', (message: ToMembers) => {
  void (async () => {
    try {
      switch (message.type) {
        case 'setup':
          await setup(message);
          break;
        case 'greet':
          await greet(message.senderId);
          break;
        case 'expect':
          label = message.label;
          inGroup = message.light;
          for (const m of light) m.got = false;
          for (const r of real) r.got = false;
          reply({ type: 'expecting' });
          break;
        case 'count': {
          reply({ type: 'count', light: light.slice(0, inGroup).filter((m) => m.got).length, real: real.filter((r) => r.got).length });
          break;
        }
        case 'stop':
          for (const r of real) await r.client.close();
          await Promise.all(light.map((m) => m.connection.close()));
          reply({ type: 'stopped' });
          process.exit(0);
      }
    } catch (error) {
      reply({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
    }
  })();
});
