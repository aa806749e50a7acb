/**
 * Invite links in the browser. The SDK's link is `pigeon://invite/<payload>`; on the web the same
 * payload travels in the URL fragment (`https://relay/app/#invite=<payload>`) so opening it starts
 * the app, and the fragment is never sent to the server.
 */
import { INVITE_LINK_PREFIX, MAX_INVITE_LINK_CHARS } from '@pigeon/client';

export const INVITE_FRAGMENT = 'invite=';
const PAYLOAD = /^[A-Za-z0-9_-]+$/;

/** Finds an invite in pasted text or a URL: returns the SDK link, or null. */
export function extractInviteLink(input: string): string | null {
  const text = input.trim();
  if (text.length === 0 || text.length > MAX_INVITE_LINK_CHARS) return null;
  let payload: string | null = null;
  if (text.startsWith(INVITE_LINK_PREFIX)) payload = text.slice(INVITE_LINK_PREFIX.length);
  else {
    const at = text.indexOf('#' + INVITE_FRAGMENT);
    if (at >= 0) payload = text.slice(at + 1 + INVITE_FRAGMENT.length).split('&')[0] ?? null;
  }
  if (payload === null || !PAYLOAD.test(payload)) return null;
  return INVITE_LINK_PREFIX + payload;
}

/** The web form of an SDK invite link, opening the app at appUrl (fragment and query dropped). */
export function webInviteLink(sdkLink: string, appUrl: string): string {
  if (!sdkLink.startsWith(INVITE_LINK_PREFIX)) throw new Error('not an invite link');
  const base = appUrl.split('#')[0]!.split('?')[0]!;
  return `${base}#${INVITE_FRAGMENT}${sdkLink.slice(INVITE_LINK_PREFIX.length)}`;
}
