/**
 * Identity (client API, "init"): account + device keys and prekeys are created, the device is
 * registered at the relay with its prekeys and a fresh delivery token, and only then is anything
 * stored (a failed init leaves the profile uninitialised, so it can simply be retried).
 */
import { toHex } from '@pigeon/crypto';
import {
  accountIdOf,
  authMessage,
  createAccountKeys,
  createDeviceKeys,
  decodeAccountKeys,
  decodeDeviceKeys,
  deviceIdOf,
  encodeAccountKeys,
  encodeDeviceCertificate,
  encodeDeviceKeys,
  formatPigeonId,
} from '@pigeon/protocol';
import type { AccountKeys, DeviceKeys } from '@pigeon/protocol';
import { linkedAccountKey } from '../devices/payload.js';
import { ClientError } from '../errors.js';
import { DELIVERY_TOKEN_BYTES } from '../limits.js';
import { normalizeRelayUrl } from '../relay-url.js';
import type { IdentityRow } from '../store/types.js';
import { RelayConnection } from '../transport/relay-connection.js';
import type { Profile } from '../types.js';
import { asClientError, checkName, expectOk } from './checks.js';
import type { ClientCore, Keys } from './context.js';
import { generateInitialPreKeys, initialUploadFrame, putInitialPreKeys } from './prekeys.js';

export async function makeKeys(core: ClientCore, account: AccountKeys, device: DeviceKeys, identity: IdentityRow, hasAccountSecret = true): Promise<Keys> {
  const accountId = await accountIdOf(core.crypto, account.signing.publicKey);
  const deviceId = await deviceIdOf(core.crypto, device.signing.publicKey);
  const profile: Profile = {
    pigeonId: formatPigeonId(accountId),
    displayName: identity.displayName,
    relayUrl: identity.relayUrl,
    accountId: toHex(accountId),
    deviceId: toHex(deviceId),
  };
  return { account, hasAccountSecret, device, identity, profile };
}

/** The keys of a stored identity row (a first device, or a linked one holding only the account's public key). */
export async function keysOf(core: ClientCore, identity: IdentityRow): Promise<Keys> {
  // A linked device stores only the account's public key (devices/payload.ts); its empty secret never signs.
  const linked = linkedAccountKey(identity.accountKeys);
  const account: AccountKeys = linked ? { signing: { publicKey: linked, secretKey: new Uint8Array(0) } } : decodeAccountKeys(identity.accountKeys);
  const device = decodeDeviceKeys(identity.deviceKeys);
  return makeKeys(core, account, device, identity, linked === null);
}

/** PigeonClient.init: see the file comment. */
export async function registerIdentity(core: ClientCore, args: { relayUrl: string; displayName: string }): Promise<Profile> {
  core.open();
  if (core.identity) throw new ClientError('ALREADY_INITIALIZED', 'this profile already has an identity');
  const relayUrl = normalizeRelayUrl(args.relayUrl);
  const displayName = checkName(args.displayName, 'display name');
  const c = core.crypto;
  const now = core.now();
  const account = await createAccountKeys(c);
  const device = await createDeviceKeys(c, account, now);
  const preKeys = await generateInitialPreKeys(c, device, now);
  const deliveryToken = c.randomBytes(DELIVERY_TOKEN_BYTES);

  const conn = new RelayConnection({
    ...core.tuning,
    url: relayUrl,
    label: 'register',
    socketFactory: core.socketFactory,
    logger: core.log,
    handshake: async (cx, challenge) => {
      const signature = await c.ed25519Sign(device.signing.secretKey, authMessage(challenge.nonce));
      expectOk(await cx.request({ type: 'register', certificate: encodeDeviceCertificate(device.certificate), signature }), 'register');
      expectOk(await cx.request(initialUploadFrame(preKeys)), 'upload_prekeys');
      expectOk(await cx.request({ type: 'set_delivery_tokens', add: [deliveryToken], remove: [] }), 'set_delivery_tokens');
    },
  });
  conn.start();
  try {
    await conn.waitConnected(core.connectTimeoutMs);
  } catch (err) {
    throw asClientError(err, 'registration');
  } finally {
    conn.stop();
  }

  const identity: IdentityRow = {
    accountKeys: encodeAccountKeys(account),
    deviceKeys: encodeDeviceKeys(device),
    displayName,
    relayUrl,
    deliveryToken,
    createdAt: now,
  };
  core.store.transaction(() => {
    core.store.putIdentity(identity);
    putInitialPreKeys(core.store, preKeys);
  });
  core.identity = await makeKeys(core, account, device, identity);
  core.log('client.initialized');
  return core.identity.profile;
}
