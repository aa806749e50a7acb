import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BundlesFrame } from '@pigeon/api';
import { decodePreKeyBundle, verifyPreKeyBundle } from '@pigeon/protocol';
import { TestClient } from './helpers/client.js';
import { assertError, assertOk, randomId, randomToken, registered, setTokens, startTestRelay, type TestRelay } from './helpers/harness.js';
import { crypto, newDevice, preKeyUpload } from './helpers/identity.js';

async function fetchBundles(client: TestClient, accountId: Uint8Array, token: Uint8Array) {
  return client.request({ type: 'fetch_bundles', id: client.id(), accountId, deliveryToken: token });
}

describe('relay: prekeys', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.relay.stop());

  it('serves verifiable bundles, consuming one-time keys, then falling back to the last resort key', async () => {
    const { client, device } = await registered(relay.url);
    const token = randomToken();
    await setTokens(client, [token]);
    assertOk(await client.request(await preKeyUpload(device, client.id(), { oneTime: 2, kemOneTime: 1, firstId: 100 })));
    const status = await client.request({ type: 'prekey_status', id: client.id() });
    assert.deepStrictEqual({ ...status, id: 0 }, { type: 'prekey_status_result', id: 0, oneTimePreKeys: 2, kemOneTimePreKeys: 1 });

    // Anyone holding a delivery token may fetch, without authenticating (sealed sender).
    const fetcher = await TestClient.connect(relay.url);
    const seen: { opk: number | null; kem: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = (await fetchBundles(fetcher, device.accountId, token)) as BundlesFrame;
      assert.equal(reply.type, 'bundles');
      assert.equal(reply.bundles.length, 1);
      const bundle = decodePreKeyBundle(reply.bundles[0]!);
      await verifyPreKeyBundle(crypto, bundle);
      assert.deepStrictEqual(Buffer.from(bundle.certificate.deviceSigningKey), Buffer.from(device.keys.signing.publicKey));
      seen.push({ opk: bundle.oneTimePreKey?.id ?? null, kem: bundle.kemPreKey.id });
    }
    // one-time ids 100,101; ML-KEM one-time 101; last resort 100.
    assert.deepStrictEqual(seen, [
      { opk: 100, kem: 101 },
      { opk: 101, kem: 100 },
      { opk: null, kem: 100 },
    ]);
    const after = await client.request({ type: 'prekey_status', id: client.id() });
    assert.deepStrictEqual({ ...after, id: 0 }, { type: 'prekey_status_result', id: 0, oneTimePreKeys: 0, kemOneTimePreKeys: 0 });
    await fetcher.close();
    await client.close();
  });

  it('returns one bundle per device of the account', async () => {
    const a = await registered(relay.url);
    const b = await registered(relay.url, await newDevice(a.device.account));
    const token = randomToken();
    await setTokens(a.client, [token]);
    assertOk(await a.client.request(await preKeyUpload(a.device, a.client.id())));
    assertOk(await b.client.request(await preKeyUpload(b.device, b.client.id())));
    const reply = (await fetchBundles(a.client, a.device.accountId, token)) as BundlesFrame;
    assert.equal(reply.bundles.length, 2);
    await a.client.close();
    await b.client.close();
  });

  it('two concurrent fetches never get the same one-time key', async () => {
    const { client, device } = await registered(relay.url);
    const token = randomToken();
    await setTokens(client, [token]);
    assertOk(await client.request(await preKeyUpload(device, client.id(), { oneTime: 10 })));
    const fetchers = await Promise.all(Array.from({ length: 4 }, () => TestClient.connect(relay.url)));
    const replies = await Promise.all(
      fetchers.flatMap((f) => Array.from({ length: 3 }, () => fetchBundles(f, device.accountId, token))),
    );
    const ids = replies.map((r) => decodePreKeyBundle((r as BundlesFrame).bundles[0]!).oneTimePreKey?.id).filter((x) => x !== undefined);
    assert.equal(ids.length, 10);
    assert.equal(new Set(ids).size, 10);
    for (const f of fetchers) await f.close();
    await client.close();
  });

  it('refuses bad prekey signatures (BAD_SIGNATURE) and stores nothing of that upload', async () => {
    const { client, device } = await registered(relay.url);
    const other = await newDevice();
    const upload = await preKeyUpload(device, client.id(), { oneTime: 1, kemOneTime: 1 });
    const foreign = await preKeyUpload(other, 0, { kemOneTime: 1 });
    assertError(await client.request({ ...upload, id: client.id(), signedPreKey: foreign.signedPreKey }), 'BAD_SIGNATURE');
    assertError(await client.request({ ...upload, id: client.id(), kemLastResortPreKey: foreign.kemLastResortPreKey }), 'BAD_SIGNATURE');
    assertError(await client.request({ ...upload, id: client.id(), kemOneTimePreKeys: foreign.kemOneTimePreKeys }), 'BAD_SIGNATURE');
    // A signature over the same key but another id does not transfer.
    assertError(await client.request({ ...upload, id: client.id(), signedPreKey: { ...upload.signedPreKey!, id: 999 } }), 'BAD_SIGNATURE');
    const status = await client.request({ type: 'prekey_status', id: client.id() });
    assert.deepStrictEqual({ ...status, id: 0 }, { type: 'prekey_status_result', id: 0, oneTimePreKeys: 0, kemOneTimePreKeys: 0 });
    await client.close();
  });

  it('NO_PREKEYS without a signed prekey or ML-KEM last-resort key; UNKNOWN_ACCOUNT; BAD_DELIVERY_TOKEN', async () => {
    const { client, device } = await registered(relay.url);
    const token = randomToken();
    await setTokens(client, [token]);
    assertError(await fetchBundles(client, device.accountId, token), 'NO_PREKEYS');
    assertOk(await client.request(await preKeyUpload(device, client.id(), { lastResort: false, oneTime: 3 })));
    assertError(await fetchBundles(client, device.accountId, token), 'NO_PREKEYS');
    assertError(await fetchBundles(client, randomId(), token), 'UNKNOWN_ACCOUNT');
    assertError(await fetchBundles(client, device.accountId, randomToken()), 'BAD_DELIVERY_TOKEN');
    assertError(await fetchBundles(client, device.accountId, new Uint8Array(0)), 'BAD_DELIVERY_TOKEN');
    // Nothing was consumed by the refused fetches.
    const status = await client.request({ type: 'prekey_status', id: client.id() });
    assert.equal((status as { oneTimePreKeys: number }).oneTimePreKeys, 3);
    await client.close();
  });

  it('bounds stored one-time prekeys per device (LIMIT_EXCEEDED)', async () => {
    const small = await startTestRelay({ limits: { maxOneTimePreKeysPerKind: 3 } });
    try {
      const { client, device } = await registered(small.url);
      assertOk(await client.request(await preKeyUpload(device, client.id(), { oneTime: 3 })));
      assertError(await client.request(await preKeyUpload(device, client.id(), { oneTime: 1, firstId: 50 })), 'LIMIT_EXCEEDED');
      await client.close();
    } finally {
      await small.relay.stop();
    }
  });
});
