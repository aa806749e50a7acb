import { describe, expect, it } from 'vitest';
import type { Contact, StoredMessage } from '@pigeon/client';
import { en } from '../src/i18n/en.js';
import { pickLocale, translator } from '../src/i18n/index.js';
import { ru } from '../src/i18n/ru.js';
import { initialState, reducer, sortedConversations, unreadCount } from '../src/logic/app-state.js';
import { dayLabel, withDaySeparators } from '../src/logic/format.js';
import { extractInviteLink, webInviteLink } from '../src/logic/invite-input.js';
import { decodeWarnings, detectKeyChange, encodeWarnings } from '../src/logic/key-change.js';
import { parseConfig, relayUrlFor } from '../src/config.js';

const contact = (id: string, name: string, addedAt = 1): Contact => ({ id, name, pigeonId: `p-${id}`, relayUrl: 'ws://r/pigeon', verified: false, addedAt, keyChanged: false });
const msg = (id: string, over: Partial<StoredMessage> = {}): StoredMessage => ({
  id, contactId: 'c1', direction: 'in', text: id, sentAt: 1000, receivedAt: 1000, state: 'delivered', read: false, ...over,
});

describe('i18n', () => {
  it('follows the browser language, a saved choice wins', () => {
    expect(pickLocale(['ru-RU', 'en'])).toBe('ru');
    expect(pickLocale(['de-DE', 'en-GB'])).toBe('en');
    expect(pickLocale(['de'])).toBe('en');
    expect(pickLocale(['ru'], 'en')).toBe('en');
    expect(pickLocale(['en'], 'garbage')).toBe('en');
  });
  it('has every key in Russian, non-empty, with the same placeholders', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(ru[key].length).toBeGreaterThan(0);
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(ru[key])).toEqual(ph(en[key]));
    }
  });
  it('fills placeholders and leaves unknown ones', () => {
    const t = translator('ru');
    expect(t('messagesOf', { name: 'Анна' })).toBe('Переписка с Анна');
    expect(translator('en')('queued', {})).toBe('{count} waiting to send');
  });
});

describe('day separators and labels', () => {
  const noon = new Date(2025, 4, 10, 12, 0).getTime();
  it('puts a separator before the first message of each day', () => {
    const items = withDaySeparators([msg('a', { sentAt: noon - 26 * 3600e3 }), msg('b', { sentAt: noon - 3600e3 }), msg('c', { sentAt: noon })]);
    expect(items.map((i) => i.kind)).toEqual(['day', 'message', 'day', 'message', 'message']);
  });
  it('says today / yesterday, else a date', () => {
    const w = { today: 'T', yesterday: 'Y' };
    expect(dayLabel(noon, noon, 'en', w)).toBe('T');
    expect(dayLabel(noon - 24 * 3600e3, noon, 'en', w)).toBe('Y');
    expect(dayLabel(new Date(2025, 0, 3).getTime(), noon, 'en', w)).toMatch(/January 3|3 January/);
    expect(dayLabel(new Date(2024, 0, 3).getTime(), noon, 'ru', w)).toMatch(/2024/);
  });
});

describe('invite links', () => {
  const sdk = 'pigeon://invite/AQAAABt3czovL_-x';
  it('accepts the SDK form, the web form and surrounding spaces', () => {
    expect(extractInviteLink(`  ${sdk}\n`)).toBe(sdk);
    expect(extractInviteLink('https://relay.example/app/#invite=AQAAABt3czovL_-x')).toBe(sdk);
    expect(webInviteLink(sdk, 'https://relay.example/secret/?x=1#old')).toBe('https://relay.example/secret/#invite=AQAAABt3czovL_-x');
  });
  it('rejects anything else', () => {
    for (const bad of ['', 'hello', 'pigeon://invite/', 'pigeon://invite/a b', 'https://x/#invite=<script>', 'x'.repeat(5000)]) expect(extractInviteLink(bad)).toBeNull();
    expect(() => webInviteLink('https://nope', 'https://x/')).toThrow();
  });
});

describe('key-change warnings', () => {
  it('warns when a new contact has the name of a known one', () => {
    const known = [contact('a', 'Anna'), contact('b', 'Boris')];
    expect(detectKeyChange(contact('c', ' anna '), known)).toEqual({ contactId: 'c', lookalikes: ['a'] });
    expect(detectKeyChange(contact('c', 'Clara'), known)).toBeNull();
    expect(detectKeyChange(contact('a', 'Anna'), known)).toBeNull();
  });
  it('round-trips and survives garbage', () => {
    const w = [{ contactId: 'c', lookalikes: ['a'] }];
    expect(decodeWarnings(encodeWarnings(w))).toEqual(w);
    expect(decodeWarnings('{oops')).toEqual([]);
    expect(decodeWarnings('[1,{"contactId":3}]')).toEqual([]);
    expect(decodeWarnings(undefined)).toEqual([]);
  });
});

describe('app state reducer', () => {
  it('counts unread per contact and clears them when read', () => {
    let s = reducer(initialState, { type: 'loaded', contacts: [contact('c1', 'A')], messages: {}, warnings: [] });
    s = reducer(s, { type: 'message', message: msg('m1') });
    s = reducer(s, { type: 'message', message: msg('m2', { sentAt: 2000 }) });
    s = reducer(s, { type: 'message', message: msg('o1', { direction: 'out', state: 'queued', read: true, sentAt: 3000 }) });
    expect(unreadCount(s, 'c1')).toBe(2);
    s = reducer(s, { type: 'read', contactId: 'c1', ids: ['m1', 'm2'] });
    expect(unreadCount(s, 'c1')).toBe(0);
  });
  it('updates a message state in place and keeps time order', () => {
    let s = reducer(initialState, { type: 'message', message: msg('b', { sentAt: 2000, direction: 'out', state: 'queued' }) });
    s = reducer(s, { type: 'message', message: msg('a', { sentAt: 1000 }) });
    s = reducer(s, { type: 'status', message: msg('b', { sentAt: 2000, direction: 'out', state: 'delivered' }) });
    expect(s.messages['c1']!.map((m) => `${m.id}:${m.state}`)).toEqual(['a:delivered', 'b:delivered']);
  });
  it('sorts conversations by latest activity and upserts contacts', () => {
    let s = reducer(initialState, { type: 'loaded', contacts: [contact('c1', 'A', 1), contact('c2', 'B', 5)], messages: {}, warnings: [] });
    expect(sortedConversations(s).map((c) => c.id)).toEqual(['c2', 'c1']);
    s = reducer(s, { type: 'message', message: msg('m', { sentAt: 10 }) });
    expect(sortedConversations(s).map((c) => c.id)).toEqual(['c1', 'c2']);
    s = reducer(s, { type: 'contact', contact: { ...contact('c1', 'A', 1), verified: true } });
    expect(s.contacts.length).toBe(2);
    expect(s.contacts.find((c) => c.id === 'c1')!.verified).toBe(true);
  });
});

describe('config', () => {
  it('derives the same-origin relay URL', () => {
    expect(relayUrlFor({ protocol: 'https:', host: 'r.example' }, '/pigeon')).toBe('wss://r.example/pigeon');
    expect(relayUrlFor({ protocol: 'http:', host: '127.0.0.1:8' }, 'x')).toBe('ws://127.0.0.1:8/x');
    expect(parseConfig({ wsPath: '/ws' })).toEqual({ wsPath: '/ws' });
    expect(parseConfig({ wsPath: 'javascript:1' })).toEqual({ wsPath: '/pigeon' });
    expect(parseConfig(null)).toEqual({ wsPath: '/pigeon' });
  });
});
