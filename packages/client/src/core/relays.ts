/**
 * Relay connections (client API, "Sending"): the authenticated connection to our own relay
 * (register/auth, receives `deliver`, acks, prekey upkeep) and one anonymous connection per relay
 * URL (sealed `send`, `fetch_device_bundles`), so the relay cannot tie a sender to a device.
 */
import { CLOSE_CODES } from '@pigeon/api';
import type { ChallengeFrame, RelayFrame } from '@pigeon/api';
import { fromHex, toHex } from '@pigeon/crypto';
import { authMessage, decodePreKeyBundle } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import { RelayConnection } from '../transport/relay-connection.js';
import { asClientError, errorCode, expectOk } from './checks.js';
import type { ClientCore } from './context.js';
import { pumpOutbox } from './outbox.js';
import { topUpPreKeys } from './prekeys.js';
import { PREKEY_CHECK_INTERVAL_MS } from '../limits.js';
import { onPush } from './receive.js';

/** Creates and starts the authenticated connection (once; kept up with backoff until close). */
export function startAuth(core: ClientCore): RelayConnection {
  if (core.auth) return core.auth;
  const k = core.keys();
  core.auth = new RelayConnection({
    ...core.tuning,
    url: k.identity.relayUrl,
    label: 'auth',
    socketFactory: core.socketFactory,
    logger: core.log,
    handshake: (conn, challenge) => authenticate(core, conn, challenge),
    onPush: (frame) => onPush(core, frame),
    // A removed device is closed as REVOKED, or refused at auth when it connects later: check the signed list.
    onRefused: ({ closeCode, error }) => {
      if (closeCode === CLOSE_CODES.REVOKED || (error && errorCode(error) === 'AUTH_FAILED')) core.devices.suspectRevoked();
    },
    onState: (state) => {
      core.events.emit('connection', state);
      if (state === 'connected') {
        void topUpPreKeys(core);
        void core.life.resumeRotation().catch((err: unknown) => core.log('life.rotation_failed', { code: errorCode(err) }));
      }
    },
  });
  core.auth.start();
  // A client that stays connected for days still rotates its signed prekey on time.
  core.preKeyTimer = setInterval(() => void topUpPreKeys(core), PREKEY_CHECK_INTERVAL_MS);
  (core.preKeyTimer as { unref?: () => void }).unref?.();
  return core.auth;
}

async function authenticate(core: ClientCore, conn: RelayConnection, challenge: ChallengeFrame): Promise<void> {
  const k = core.keys();
  core.drained = false;
  const signature = await core.crypto.ed25519Sign(k.device.signing.secretKey, authMessage(challenge.nonce));
  expectOk(await conn.request({ type: 'auth', deviceId: fromHex(k.profile.deviceId), signature }), 'auth');
}

/** The anonymous connection to `url`, started on first use. */
export function anonConnection(core: ClientCore, url: string): RelayConnection {
  let conn = core.anon.get(url);
  if (!conn) {
    conn = new RelayConnection({
      ...core.tuning,
      url,
      label: 'anon',
      socketFactory: core.socketFactory,
      logger: core.log,
      onState: (state) => {
        if (state === 'connected') pumpOutbox(core);
      },
    });
    core.anon.set(url, conn);
    conn.start();
  }
  return conn;
}

/**
 * Bundles of the account's listed devices (fetch_device_bundles): the signed list in the reply is
 * offered to the devices manager (accepted only if it verifies under `accountKey` and is newer),
 * and bundles of devices the held list does not name are dropped (docs/protocol.md §13.1).
 */
export async function fetchBundles(core: ClientCore, url: string, accountId: Uint8Array, deliveryToken: Uint8Array, accountKey: Uint8Array): Promise<readonly Uint8Array[]> {
  const conn = anonConnection(core, url);
  let reply: RelayFrame;
  try {
    await conn.waitConnected(core.connectTimeoutMs);
    reply = await conn.request({ type: 'fetch_device_bundles', accountId, deliveryToken });
    if (reply.type !== 'device_bundles') throw new ClientError('RELAY_REJECTED', `unexpected ${reply.type} reply to fetch_device_bundles`);
  } catch (err) {
    throw asClientError(err, 'the key bundle request');
  }
  const id = toHex(accountId);
  await core.devices.offerList(id, accountKey, reply.deviceList);
  core.devices.markFetched(id);
  return reply.bundles.filter((bytes) => {
    try {
      return core.devices.isListed(id, decodePreKeyBundle(bytes).certificate);
    } catch {
      return false;
    }
  });
}
