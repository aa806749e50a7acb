/**
 * Key-change warnings. In Pigeon a contact IS its account key (the contact id is a hash of it,
 * and the safety number is computed over account keys), so a contact's key can never change in
 * place: someone who reinstalls, or someone impersonating them, arrives as a NEW contact. What
 * the user can be warned about is exactly that: a new contact whose name matches an existing
 * contact with a different key. (New devices of the same account are certified by the account
 * key, so they do not change the safety number and need no warning.)
 */
import type { Contact } from '@pigeon/client';

export interface KeyChangeWarning {
  /** The newly arrived contact. */
  readonly contactId: string;
  /** The existing contact(s) it looks like. */
  readonly lookalikes: readonly string[];
}

const norm = (s: string) => s.normalize('NFKC').trim().toLowerCase();

/** The warning for `added` given the contacts known before it, or null. */
export function detectKeyChange(added: Contact, known: readonly Contact[]): KeyChangeWarning | null {
  const lookalikes = known.filter((c) => c.id !== added.id && norm(c.name) === norm(added.name)).map((c) => c.id);
  return lookalikes.length > 0 ? { contactId: added.id, lookalikes } : null;
}

/** Warnings are kept (per profile) until the user verifies the new contact or dismisses them. */
export function encodeWarnings(list: readonly KeyChangeWarning[]): string {
  return JSON.stringify(list);
}

export function decodeWarnings(text: string | undefined): KeyChangeWarning[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v)) return [];
    return v.filter(
      (w): w is KeyChangeWarning =>
        typeof w === 'object' && w !== null && typeof (w as KeyChangeWarning).contactId === 'string' && Array.isArray((w as KeyChangeWarning).lookalikes),
    );
  } catch {
    return [];
  }
}
