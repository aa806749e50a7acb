import { utf8 } from '@pigeon/crypto';
import { ClientError } from './errors.js';
import { MAX_URL_BYTES } from './limits.js';

/**
 * Normalises a relay address to the WebSocket URL the transport dials.
 * http(s) is accepted for convenience (people copy what their browser shows).
 * No URL global is assumed beyond what both Node and browsers provide.
 */
export function normalizeRelayUrl(input: string): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new ClientError('BAD_ARGUMENT', 'relay URL is not a valid URL', { cause });
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ClientError('BAD_ARGUMENT', 'relay URL must start with ws://, wss://, http:// or https://');
  }
  if (url.username || url.password) throw new ClientError('BAD_ARGUMENT', 'relay URL must not contain credentials');
  const out = url.toString();
  if (utf8.encode(out).length > MAX_URL_BYTES) throw new ClientError('BAD_ARGUMENT', 'relay URL is too long');
  return out;
}
