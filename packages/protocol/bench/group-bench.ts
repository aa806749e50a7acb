/**
 * Group message cost with Sender Keys, for 100 and 1,000 members (one device each):
 *   - sender CPU per message: ONE sender-key encryption (pad, AES-256-GCM, Ed25519 signature);
 *   - the client's fan-out of that same ciphertext in one sealed envelope per recipient device;
 *   - bytes per recipient device (sealed envelope) and in total;
 *   - a rekey after a removal (new key, one distribution message per device, sealed pairwise-sized).
 * A report, not a test: `node packages/protocol/dist/bench/group-bench.js [--messages=200] [--backend=node|noble]`.
 */
import { createNobleBackend, defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  createAccountKeys,
  createDeviceKeys,
  createGroup,
  createGroupSenderKey,
  deviceIdOf,
  groupEncrypt,
  sealMessage,
} from '../src/index.js';
import type { DeviceKeys, GroupDeviceRef } from '../src/index.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const MESSAGES = Number(args.get('messages') ?? 200);
const crypto: CryptoBackend = args.get('backend') === 'noble' ? createNobleBackend() : defaultBackend();
const NOW = 1_750_000_000_000;
const PLAINTEXT = new Uint8Array(100).fill(0x61);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function measure(members: number): Promise<Record<string, number>> {
  const devices: DeviceKeys[] = [];
  const refs: GroupDeviceRef[] = [];
  for (let i = 0; i < members; i++) {
    const account = await createAccountKeys(crypto);
    const device = await createDeviceKeys(crypto, account, NOW);
    devices.push(device);
    refs.push({ accountKey: account.signing.publicKey, deviceId: await deviceIdOf(crypto, device.signing.publicKey) });
  }
  const group = await createGroup(
    crypto,
    { accountKey: refs[0]!.accountKey, devices: [refs[0]!.deviceId] },
    { name: 'bench', members: refs.slice(1).map((r) => ({ accountKey: r.accountKey, devices: [r.deviceId] })) },
  );
  const self = refs[0]!;
  let { senderKey } = await createGroupSenderKey(crypto, group, self);
  const recipients = devices.slice(1).map((d) => d.certificate);

  // Warm-up.
  for (let i = 0; i < 20; i++) senderKey = (await groupEncrypt(crypto, group, self, senderKey, PLAINTEXT)).senderKey;

  let t = cpuMs();
  let message: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < MESSAGES; i++) {
    const r = await groupEncrypt(crypto, group, self, senderKey, PLAINTEXT);
    senderKey = r.senderKey;
    message = r.message;
  }
  const encryptUs = ((cpuMs() - t) * 1000) / MESSAGES;

  // Fan-out: the same group ciphertext sealed once per recipient device (what the client sends).
  const fanoutRuns = Math.max(1, Math.round(MESSAGES / members));
  let envelopeBytes = 0;
  t = cpuMs();
  for (let run = 0; run < fanoutRuns; run++) {
    for (const cert of recipients) {
      const envelope = await sealMessage(crypto, devices[0]!, cert, { kind: 'whisper', bytes: message });
      envelopeBytes = envelope.length;
    }
  }
  const fanoutMs = (cpuMs() - t) / fanoutRuns;

  // Rekey after a removal: a new key and its distribution bytes (the client seals each over the pairwise session).
  t = cpuMs();
  const rekey = await createGroupSenderKey(crypto, group, self);
  const rekeyMs = cpuMs() - t;

  return {
    members,
    groupMessageBytes: message.length,
    senderKeyEncryptUsPerMessage: Math.round(encryptUs * 10) / 10,
    sealedFanoutMsPerMessage: Math.round(fanoutMs * 10) / 10,
    totalSenderCpuMsPerMessage: Math.round((encryptUs / 1000 + fanoutMs) * 10) / 10,
    bytesPerRecipientDevice: envelopeBytes,
    totalBytesPerMessage: envelopeBytes * recipients.length,
    distributionBytes: rekey.distribution.length,
    rekeyCreateMs: Math.round(rekeyMs * 100) / 100,
  };
}

const rows = [];
for (const n of [100, 1000]) rows.push(await measure(n));
console.log(`backend: ${crypto.name}, ${MESSAGES} messages of ${PLAINTEXT.length} bytes`);
console.table(rows);
