/**
 * Keeps secrets out of logs. Objects holding secret keys keep their plain contract shape
 * (`{ secretKey, publicKey }` etc.) but get non-enumerable `toJSON`, `toString` and Node's
 * `util.inspect.custom` hooks that print a redacted view. `Symbol.for` names the inspect
 * hook without importing node:util, so this file stays platform-neutral.
 */
import { toHex } from '@pigeon/crypto';
import type { KeyPair } from '@pigeon/crypto';

export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Adds redacting toJSON/inspect/toString hooks (non-enumerable) and returns the same object. */
export function redacted<T extends object>(value: T, describe: () => unknown): T {
  const view = (): unknown => describe();
  Object.defineProperty(value, 'toJSON', { value: view, enumerable: false });
  Object.defineProperty(value, INSPECT, { value: view, enumerable: false });
  Object.defineProperty(value, 'toString', { value: () => JSON.stringify(describe()), enumerable: false });
  return value;
}

/**
 * A KeyPair whose secret never shows up in JSON.stringify, util.inspect or String(). A class
 * so the hooks live on the prototype: records decode key pairs on every message, and
 * prototype methods cost nothing per instance.
 */
class ProtectedKeyPair implements KeyPair {
  constructor(
    readonly secretKey: Uint8Array,
    readonly publicKey: Uint8Array,
  ) {}
  toJSON(): unknown {
    return { publicKey: toHex(this.publicKey), secretKey: '[redacted]' };
  }
  toString(): string {
    return JSON.stringify(this.toJSON());
  }
  [INSPECT](): unknown {
    return this.toJSON();
  }
}

export function protectKeyPair(pair: KeyPair): KeyPair {
  return pair instanceof ProtectedKeyPair ? pair : new ProtectedKeyPair(pair.secretKey, pair.publicKey);
}
