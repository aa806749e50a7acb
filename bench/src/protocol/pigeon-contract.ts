/**
 * The part of the @pigeon/protocol API the benchmarks use. Types come from the package itself;
 * the module is still loaded with a dynamic import and checked by missingProtocolFunctions(), so a
 * build where a function is missing is reported as such instead of crashing the whole run.
 */
import type * as Protocol from '@pigeon/protocol';

export type {
  AccountKeys,
  CiphertextMessage,
  DeviceCertificate,
  DeviceKeys,
  KemPreKeyPair,
  OneTimePreKeyPair,
  PreKeyBundle,
  PreKeyStore,
  SessionRecord,
  SignedPreKeyPair,
} from '@pigeon/protocol';

const REQUIRED = [
  'createAccountKeys',
  'createDeviceKeys',
  'encodeDeviceCertificate',
  'deviceIdOf',
  'accountIdOf',
  'authMessage',
  'generateSignedPreKey',
  'generateOneTimePreKeys',
  'generateKemPreKey',
  'encodeSignedPreKey',
  'decodeSignedPreKey',
  'encodeOneTimePreKey',
  'decodeOneTimePreKey',
  'encodeKemPreKey',
  'decodeKemPreKey',
  'encodePreKeyBundle',
  'decodePreKeyBundle',
  'encodeSessionRecord',
  'decodeSessionRecord',
  'initiateSession',
  'sessionEncrypt',
  'sessionDecrypt',
] as const satisfies readonly (keyof typeof Protocol)[];

export type PigeonProtocol = Pick<typeof Protocol, (typeof REQUIRED)[number]>;

export function missingProtocolFunctions(module: unknown, required: readonly string[] = REQUIRED): string[] {
  const mod = module as Record<string, unknown>;
  return required.filter((name) => typeof mod[name] !== 'function');
}
