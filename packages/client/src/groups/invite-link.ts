/**
 * Group invite links: `pigeon://group/<base64url>` = version(1) || groupId(32) || secret(16)
 * || group name (u32 len + UTF-8) || the admin's contact invite link (u32 len + UTF-8).
 * The holder first becomes the admin's contact through the embedded invite (an introduction,
 * client.ts), then sends a `join_request` with the secret over that pairwise session; an admin
 * holding the same secret adds it (docs/protocol.md §12: membership changes stay signed by admins).
 * The link does not reveal the members; anyone holding it can ask to join until the admin makes a new one.
 */
import { fromBase64Url, toBase64Url } from '@pigeon/crypto';
import { GROUP_ID_BYTES, MAX_GROUP_NAME_BYTES, Reader, Writer } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import { GROUP_INVITE_SECRET_BYTES } from './payload.js';

export const GROUP_LINK_PREFIX = 'pigeon://group/';
export const GROUP_LINK_VERSION = 1;
/** The embedded contact invite link. */
const MAX_CONTACT_LINK_CHARS = 2_048;

export interface GroupInvite {
  readonly groupId: Uint8Array;
  readonly secret: Uint8Array;
  readonly name: string;
  readonly contactLink: string;
}

export function encodeGroupLink(invite: GroupInvite): string {
  const body = new Writer(256)
    .u8(GROUP_LINK_VERSION)
    .fixed(invite.groupId, GROUP_ID_BYTES)
    .fixed(invite.secret, GROUP_INVITE_SECRET_BYTES)
    .string(invite.name, MAX_GROUP_NAME_BYTES)
    .string(invite.contactLink, MAX_CONTACT_LINK_CHARS)
    .finish();
  return GROUP_LINK_PREFIX + toBase64Url(body);
}

export function decodeGroupLink(link: string): GroupInvite {
  const text = link.trim();
  if (!text.startsWith(GROUP_LINK_PREFIX)) throw new ClientError('BAD_LINK', 'not a Pigeon group link (pigeon://group/...)');
  try {
    const r = new Reader(fromBase64Url(text.slice(GROUP_LINK_PREFIX.length)));
    const version = r.u8();
    if (version !== GROUP_LINK_VERSION) throw new ClientError('BAD_LINK', `unsupported group link version ${version}`);
    const invite = {
      groupId: r.fixed(GROUP_ID_BYTES).slice(),
      secret: r.fixed(GROUP_INVITE_SECRET_BYTES).slice(),
      name: r.string(MAX_GROUP_NAME_BYTES),
      contactLink: r.string(MAX_CONTACT_LINK_CHARS),
    };
    r.end();
    return invite;
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_LINK', 'the group link is damaged', { cause });
  }
}
