/** Starts relays on ephemeral ports and builds registered/authenticated test clients. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { RelayErrorCode, RelayFrame } from '@pigeon/api';
import { createRelay, type Relay, type RelayAddress } from '../../src/relay.js';
import type { RelayOptions } from '../../src/options.js';
import { TestClient } from './client.js';
import { newDevice, signChallenge, type TestDevice } from './identity.js';

export interface TestRelay extends RelayAddress {
  readonly relay: Relay;
}

export async function startTestRelay(options: RelayOptions = {}): Promise<TestRelay> {
  const relay = createRelay({ port: 0, host: '127.0.0.1', ...options });
  const address = await relay.start();
  return { relay, ...address };
}

export const randomId = (): Uint8Array => new Uint8Array(randomBytes(16));
export const randomToken = (): Uint8Array => new Uint8Array(randomBytes(32));

export function assertOk(frame: RelayFrame): void {
  assert.equal(frame.type, 'ok', frame.type === 'error' ? `error ${frame.code}: ${frame.message}` : frame.type);
}

export function assertError(frame: RelayFrame, code: RelayErrorCode): void {
  assert.equal(frame.type, 'error', `expected ${code}, got ${frame.type}`);
  assert.equal((frame as { code: string }).code, code);
}

export interface Session {
  readonly client: TestClient;
  readonly device: TestDevice;
}

/** Connects and registers `device` (a new one by default); consumes the queue_empty that follows. */
export async function registered(url: string, device?: TestDevice): Promise<Session> {
  const d = device ?? (await newDevice());
  const client = await TestClient.connect(url);
  const reply = await client.request({ type: 'register', id: client.id(), certificate: d.certificate, signature: await signChallenge(d, client.challenge.nonce) });
  assertOk(reply);
  return { client, device: d };
}

/** Connects and authenticates an already registered device (does not consume deliveries). */
export async function authenticated(url: string, device: TestDevice): Promise<TestClient> {
  const client = await TestClient.connect(url);
  const reply = await client.request({ type: 'auth', id: client.id(), deviceId: device.deviceId, signature: await signChallenge(device, client.challenge.nonce) });
  assertOk(reply);
  return client;
}

export async function setTokens(client: TestClient, add: Uint8Array[], remove: Uint8Array[] = []): Promise<void> {
  assertOk(await client.request({ type: 'set_delivery_tokens', id: client.id(), add, remove }));
}

export async function sendTo(client: TestClient, recipient: TestDevice, token: Uint8Array, envelope: Uint8Array, messageId = randomId()): Promise<RelayFrame> {
  return client.request({ type: 'send', id: client.id(), messageId, recipientDeviceId: recipient.deviceId, deliveryToken: token, envelope });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
