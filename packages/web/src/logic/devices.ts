/**
 * Pure logic of linked devices in the UI: reading a pasted link code, naming and ordering the
 * account's devices, and mapping SDK errors of linking/removing to what the person is told.
 */
import type { DeviceInfo } from '@pigeon/client';
import type { Locale, MessageKey } from '../i18n/index.js';

export const LINK_CODE_PREFIX = 'pigeon://link/';
const LINK_CODE_RE = /pigeon:\/\/link\/[A-Za-z0-9_-]+/;

/** The link code inside pasted text (a chat message, a line from the terminal), or null. */
export function extractLinkCode(input: string): string | null {
  return LINK_CODE_RE.exec(input.trim())?.[0] ?? null;
}

/** A device id as people read it: the first 8 hex digits in two groups ("3f2a 91c0"). */
export function shortDeviceId(id: string): string {
  return `${id.slice(0, 4)} ${id.slice(4, 8)}`;
}

/** When a device was linked ("29 Nov 2026, 14:05"). */
export function formatLinkedAt(ts: number, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(ts);
}

/** This device first, then the others in the order they were linked. */
export function sortDevices(devices: readonly DeviceInfo[]): DeviceInfo[] {
  return [...devices].sort((a, b) => Number(b.current) - Number(a.current) || a.addedAt - b.addedAt || a.id.localeCompare(b.id));
}

/** Only the device holding the account key links and removes devices (docs/protocol.md §13.2). */
export function canManageDevices(devices: readonly DeviceInfo[]): boolean {
  return devices.some((d) => d.current && d.accountKeyHolder);
}

export type LinkProblem = 'expired' | 'codeExpired' | 'badCode' | 'wrongAnswer' | 'relay' | 'account' | 'refused' | 'cancelled' | 'other';

const codeOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;

/**
 * What went wrong while linking, from the SDK error (its `code`, and for relay refusals the relay's
 * code in `cause`). The SDK codes: TIMEOUT (nobody answered within LINK_WAIT_MS), LINK_FAILED (the
 * answer does not open), BAD_LINK, RELAY_UNREACHABLE, RELAY_REJECTED (cause: UNKNOWN_PROVISIONING /
 * PROVISIONING_CLOSED when the code expired or was used), BAD_ARGUMENT (list full, device revoked before).
 */
export function linkProblem(err: unknown): { problem: LinkProblem; code: string } {
  const code = codeOf(err) ?? 'UNKNOWN';
  const cause = codeOf((err as { cause?: unknown } | null)?.cause);
  switch (code) {
    case 'TIMEOUT':
      return { problem: 'expired', code };
    case 'LINK_FAILED':
      return { problem: 'wrongAnswer', code };
    case 'BAD_LINK':
      return { problem: 'badCode', code };
    case 'RELAY_UNREACHABLE':
      return { problem: 'relay', code };
    case 'CLOSED':
      return { problem: 'cancelled', code };
    case 'BAD_ARGUMENT':
      return { problem: 'account', code };
    case 'RELAY_REJECTED':
      if (cause === 'UNKNOWN_PROVISIONING' || cause === 'PROVISIONING_CLOSED') return { problem: 'codeExpired', code: cause };
      return { problem: 'refused', code: cause ?? code };
    default:
      return { problem: 'other', code };
  }
}

export const LINK_PROBLEM_TEXT: Record<LinkProblem, MessageKey> = {
  expired: 'linkErrExpired',
  codeExpired: 'linkErrCodeExpired',
  badCode: 'linkErrBadCode',
  wrongAnswer: 'linkErrOpen',
  relay: 'linkErrRelay',
  account: 'linkErrAccount',
  refused: 'linkErrRefused',
  cancelled: 'linkErrCancelled',
  other: 'linkErrOther',
};
