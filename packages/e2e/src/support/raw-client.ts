/**
 * A raw relay client for hostile-input tests: `ws` + the @pigeon/api codec and real identities
 * from @pigeon/protocol, with no SDK logic in between, so a test sees exactly what the relay
 * process answers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeRelayFrame, encodeClientFrame } from '@pigeon/api';
import type { ChallengeFrame, ClientFrame, RelayErrorCode, RelayFrame, UploadPreKeysFrame } from '@pigeon/api';
import { defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  accountIdOf,
  authMessage,
  createAccountKeys,
  createDeviceKeys,
  deviceIdOf,
  encodeDeviceCertificate,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
} from '@pigeon/protocol';
import type { DeviceKeys } from '@pigeon/protocol';
import WebSocket from 'ws';
import { WAIT_MS } from './processes.js';

export const crypto: CryptoBackend = defaultBackend();

export const randomId = (): Uint8Array => new Uint8Array(randomBytes(16));
export const randomToken = (): Uint8Array => new Uint8Array(randomBytes(32));

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

type Waiter = {
  readonly match: (f: RelayFrame) => boolean;
  readonly resolve: (f: RelayFrame) => void;
  readonly reject: (err: Error) => void;
};

export class RawClient {
  private readonly inbox: RelayFrame[] = [];
  private waiters: Waiter[] = [];
  private nextId = 1;
  readonly closed: Promise<CloseInfo>;
  challenge!: ChallengeFrame;
  /** Frames from the relay that did not decode (must stay 0). */
  undecodable = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        // Nothing more can arrive: whoever still waits learns it now, not at the fail-safe timeout.
        for (const w of this.waiters.splice(0)) w.reject(new Error(`the relay closed the connection (${code})`));
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      let frame: RelayFrame;
      try {
        frame = decodeRelayFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch {
        this.undecodable++;
        return;
      }
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
      else this.inbox.push(frame);
    });
  }

  /** Opens a connection and waits for the relay's challenge. */
  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    client.challenge = (await client.next((f) => f.type === 'challenge', 'challenge')) as ChallengeFrame;
    return client;
  }

  id(): number {
    return this.nextId++;
  }

  next(match: (f: RelayFrame) => boolean, what: string): Promise<RelayFrame> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error(`no ${what}: the connection is closed`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} from the relay`));
      }, WAIT_MS);
      this.waiters.push(waiter);
    });
  }

  /** The next error frame (e.g. the answer to bytes that are no request). */
  nextError(): Promise<RelayFrame> {
    return this.next((f) => f.type === 'error', 'error frame');
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  /** Sends a request and resolves with the reply carrying its id. */
  request(frame: ClientFrame): Promise<RelayFrame> {
    const reply = this.next((f) => 'id' in f && f.id === frame.id, `reply to ${frame.type}`);
    this.ws.send(encodeClientFrame(frame));
    return reply;
  }

  close(): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

export function assertOk(frame: RelayFrame): void {
  assert.equal(frame.type, 'ok', frame.type === 'error' ? `error ${frame.code}: ${frame.message}` : frame.type);
}

export function assertError(frame: RelayFrame, code: RelayErrorCode, requestId?: number): void {
  assert.equal(frame.type, 'error', `expected ${code}, got ${frame.type}`);
  if (frame.type !== 'error') return;
  assert.equal(frame.code, code);
  if (requestId !== undefined) assert.equal(frame.id, requestId);
}

// ---- identities ----------------------------------------------------------------------------

export interface Device {
  readonly keys: DeviceKeys;
  readonly deviceId: Uint8Array;
  readonly accountId: Uint8Array;
  readonly certificate: Uint8Array;
}

export async function newDevice(): Promise<Device> {
  const account = await createAccountKeys(crypto);
  const keys = await createDeviceKeys(crypto, account, Date.now());
  return {
    keys,
    deviceId: await deviceIdOf(crypto, keys.signing.publicKey),
    accountId: await accountIdOf(crypto, account.signing.publicKey),
    certificate: encodeDeviceCertificate(keys.certificate),
  };
}

export function signChallenge(device: Device, nonce: Uint8Array): Promise<Uint8Array> {
  return crypto.ed25519Sign(device.keys.signing.secretKey, authMessage(nonce));
}

/** Connects and registers the device (register = authenticated on this connection). */
export async function register(url: string, device: Device): Promise<RawClient> {
  const c = await RawClient.connect(url);
  assertOk(await c.request({ type: 'register', id: c.id(), certificate: device.certificate, signature: await signChallenge(device, c.challenge.nonce) }));
  return c;
}

/** A correctly signed upload: signed prekey, ML-KEM last resort (id lastResortId), and one-time keys of both kinds. */
export async function preKeyUpload(device: Device, id: number, oneTime: number, kemOneTime: number, lastResortId: number): Promise<UploadPreKeysFrame> {
  const now = Date.now();
  const signed = await generateSignedPreKey(crypto, device.keys, 1, now);
  const lastResort = await generateKemPreKey(crypto, device.keys, lastResortId, true, now);
  const kems = [];
  for (let k = 1; k <= kemOneTime; k++) kems.push(await generateKemPreKey(crypto, device.keys, k, false, now));
  return {
    type: 'upload_prekeys',
    id,
    signedPreKey: { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature },
    kemLastResortPreKey: { id: lastResort.id, publicKey: lastResort.keyPair.publicKey, signature: lastResort.signature },
    oneTimePreKeys: (await generateOneTimePreKeys(crypto, 1, oneTime)).map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey })),
    kemOneTimePreKeys: kems.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature })),
  };
}
