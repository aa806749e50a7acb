/**
 * Contacts: lookup by id / Pigeon ID / name, and adding a contact from a card (group members,
 * contacts pushed by our other devices).
 */
import { equalBytes, toHex } from '@pigeon/crypto';
import { accountIdOf } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import type { ContactCard } from '../internals.js';
import { normalizeRelayUrl } from '../relay-url.js';
import type { ContactRow } from '../store/types.js';
import type { Contact } from '../types.js';
import { checkName } from './checks.js';
import type { ClientCore } from './context.js';

/** Matches a contact id (hex), a Pigeon ID, or a name (case-insensitive). */
export function findContact(core: ClientCore, nameOrId: string): Contact {
  core.keys();
  const query = nameOrId.trim();
  if (query.length === 0) throw new ClientError('UNKNOWN_CONTACT', 'no contact name given');
  const all = core.store.listContacts();
  const byId = all.find((c) => c.id === query.toLowerCase());
  if (byId) return core.contactOf(byId);
  const squash = (s: string) => s.replace(/[\s-]/g, '').toLowerCase();
  const byPigeonId = all.filter((c) => squash(core.contactOf(c).pigeonId) === squash(query));
  if (byPigeonId.length === 1) return core.contactOf(byPigeonId[0]!);
  const byName = all.filter((c) => c.name.toLowerCase() === query.toLowerCase());
  if (byName.length === 1) return core.contactOf(byName[0]!);
  if (byName.length > 1) throw new ClientError('AMBIGUOUS_CONTACT', `more than one contact is called "${query}"; use the Pigeon ID`);
  throw new ClientError('UNKNOWN_CONTACT', `no contact called "${query}"`);
}

/** The contact row for an id, or else for whatever findContact matches. */
export function resolveContact(core: ClientCore, contactId: string): ContactRow {
  return core.store.getContact(contactId) ?? core.contactRow(findContact(core, contactId).id);
}

/** Adds a contact from a group member card if we do not know the account yet. */
export async function ensureContact(core: ClientCore, card: ContactCard): Promise<boolean> {
  const k = core.keys();
  if (equalBytes(card.accountKey, k.account.signing.publicKey)) return false;
  const id = toHex(await accountIdOf(core.crypto, card.accountKey));
  if (core.store.getContact(id)) return false;
  let name: string;
  try {
    name = checkName(card.name || 'member', 'contact name');
  } catch {
    name = 'member';
  }
  const row: ContactRow = { id, name, accountKey: card.accountKey, relayUrl: normalizeRelayUrl(card.relayUrl), deliveryToken: card.deliveryToken, verified: false, addedAt: core.now() };
  core.store.transaction(() => {
    if (!core.store.getContact(id)) core.store.putContact(row);
  });
  await core.rememberPigeonId(id);
  core.events.emit('contact', core.contactOf(row), core.listenerError);
  return true;
}
