import { toHex } from '@pigeon/crypto';
export { parseProxyUrl, routesFromBridgeLink } from '@pigeon/transport';
export function toPinHex(sha256: Uint8Array): string {
  return toHex(sha256);
}
