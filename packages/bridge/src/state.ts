/**
 * What a bridge keeps between runs, so its link stays the same: the secret and the endpoint path
 * (`bridge.json`, mode 0600), next to the certificate. Losing the file means a new link.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toBase64Url, toHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { BRIDGE_SECRET_BYTES } from '@pigeon/transport';
import { BridgeError } from './errors.js';

export const STATE_FILE = 'bridge.json';

export interface BridgeState {
  readonly secret: Uint8Array;
  readonly path: string;
}

export function loadOrCreateState(dir: string, crypto: CryptoBackend): BridgeState {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, STATE_FILE);
    if (existsSync(file)) {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as { secret?: unknown; path?: unknown };
      if (typeof raw.secret !== 'string' || typeof raw.path !== 'string' || !raw.path.startsWith('/')) throw new Error('bad state file');
      const secret = fromHex(raw.secret);
      if (secret.length !== BRIDGE_SECRET_BYTES) throw new Error('bad secret length');
      return { secret, path: raw.path };
    }
    // A path like an asset URL; random so two bridges do not share one.
    const state = { secret: crypto.randomBytes(BRIDGE_SECRET_BYTES), path: `/static/${toBase64Url(crypto.randomBytes(6))}` };
    writeFileSync(file, JSON.stringify({ secret: toHex(state.secret), path: state.path }), { mode: 0o600 });
    chmodSync(file, 0o600);
    return state;
  } catch (cause) {
    throw new BridgeError('STATE_ERROR', `cannot read or write the bridge state in ${dir}`, { cause });
  }
}
