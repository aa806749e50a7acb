/**
 * The setup the attachment tests share: a relay, a proxy in front of its blob endpoint that can
 * cut connections, and a connected Alice/Bob pair whose blob traffic goes through the proxy.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { blobBaseUrlFor, type StoredMessage } from '../src/index.node.js';
import { CuttingProxy } from './cutting-proxy.js';
import { connectedPair, startRelay, type ClientPair, type TestRelay } from './helpers.js';

/** Records every message a client receives, so a test can wait for one by id. */
export interface Inbox {
  wait(id: string): Promise<StoredMessage>;
}

export function inbox(client: ClientPair['bob']): Inbox {
  const seen = new Map<string, StoredMessage>();
  const waiters = new Map<string, (m: StoredMessage) => void>();
  client.on('message', (m) => {
    seen.set(m.id, m);
    waiters.get(m.id)?.(m);
  });
  return {
    wait: (id) => {
      const m = seen.get(id);
      return m ? Promise.resolve(m) : new Promise((resolve) => waiters.set(id, resolve));
    },
  };
}

/** The blob files a relay keeps in its data directory. */
export function blobFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'blobs');
  return existsSync(dir) ? readdirSync(dir).map((n) => join(dir, n)) : [];
}

export interface AttachmentRig {
  readonly relay: TestRelay;
  readonly proxy: CuttingProxy;
  readonly pair: ClientPair;
  /** The relay's blob endpoint, reached through the proxy. */
  readonly blobBaseUrl: string;
  readonly bobInbox: Inbox;
}

/**
 * Registers before/after hooks in the calling suite: the rig is ready inside its tests, and
 * everything is closed (and `dirs` removed) after them.
 */
export function attachmentRig(dirs: { path: string; remove: () => void }): AttachmentRig {
  // Filled step by step, so that `after` closes whatever a failed `before` did start.
  let relay: TestRelay | undefined;
  let proxy: CuttingProxy | undefined;
  let pair: ClientPair | undefined;
  let rig: AttachmentRig | undefined;
  before(async () => {
    relay = await startRelay(join(dirs.path, 'relay'));
    proxy = await CuttingProxy.start(relay.port);
    pair = await connectedPair(relay.url, { alice: join(dirs.path, 'alice'), bob: join(dirs.path, 'bob') });
    const base = new URL(blobBaseUrlFor(relay.url));
    base.port = String(proxy.port);
    rig = { relay, proxy, pair, blobBaseUrl: base.href, bobInbox: inbox(pair.bob) };
  });
  after(async () => {
    await pair?.alice.close();
    await pair?.bob.close();
    await proxy?.close();
    await relay?.stop();
    dirs.remove();
  });
  const ready = (): AttachmentRig => {
    if (!rig) throw new Error('the attachment rig is used before its suite started');
    return rig;
  };
  return {
    get relay() {
      return ready().relay;
    },
    get proxy() {
      return ready().proxy;
    },
    get pair() {
      return ready().pair;
    },
    get blobBaseUrl() {
      return ready().blobBaseUrl;
    },
    get bobInbox() {
      return ready().bobInbox;
    },
  };
}
