// @vitest-environment happy-dom
import { act } from 'preact/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { mount } from './dom-mount.js';
import type { Contact, PigeonClient, ReceiptSettings, StoredMessage } from '@pigeon/client';
import { ChatView } from '../src/ui/ChatView.js';
import { MessageBubble } from '../src/ui/MessageBubble.js';
import { SettingsPanel } from '../src/ui/SettingsPanel.js';

const contact = (over: Partial<Contact> = {}): Contact => ({
  id: 'c1', name: 'Bob', pigeonId: 'p-c1', relayUrl: 'ws://r/pigeon', verified: false, addedAt: 1, keyChanged: false, ...over,
});
const out = (state: StoredMessage['state']): StoredMessage => ({
  id: `m-${state}`, contactId: 'c1', direction: 'out', text: `text ${state}`, sentAt: 1000, receivedAt: null, state, read: true,
});


const noop = () => undefined;
/** What ChatView asks of the SDK for message life (timer, block state, events, typing). */
const lifeDefaults: Partial<PigeonClient> = {
  disappearingTimer: () => 0,
  blockedContacts: () => [],
  on: (() => noop) as PigeonClient['on'],
  profile: () => ({ pigeonId: 'p', displayName: 'Me', relayUrl: 'ws://r', accountId: 'me', deviceId: 'd' }),
  sendTyping: async () => false,
  attachment: () => undefined,
};

describe('message states', () => {
  it('shows ✓ sent, ✓✓ delivered and read with a spoken label', () => {
    const el = mount(
      <div>
        {(['sent', 'delivered', 'read'] as const).map((s) => <MessageBubble m={out(s)} key={s} />)}
      </div>,
    );
    const states = [...el.querySelectorAll('[data-testid=message]')].map((m) => m.getAttribute('data-state'));
    expect(states).toEqual(['sent', 'delivered', 'read']);
    const labels = [...el.querySelectorAll('.state .sr-only')].map((s) => s.textContent);
    expect(labels).toEqual(['Sent', 'Delivered', 'Read']);
    expect(el.querySelector('.state-read')?.getAttribute('title')).toBe('Read');
  });
});

describe('chat key-change banner', () => {
  const chat = (c: Contact, client: Partial<PigeonClient>, onAck = noop) =>
    mount(
      <ChatView
        client={{ ...lifeDefaults, ...client } as PigeonClient}
        contact={c}
        messages={[]}
        warning={null}
        onSent={noop}
        onSafety={noop}
        onDismissWarning={noop}
        onAcknowledgeKeyChange={onAck}
        onBack={noop}
      />,
    );

  it('is absent for an unchanged contact and has no read-receipts note', () => {
    const el = chat(contact(), {});
    expect(el.querySelector('[data-testid=identity-warning]')).toBeNull();
    expect(el.textContent).not.toMatch(/not supported/);
  });

  it('warns about a key change and acknowledges it', () => {
    const onAck = vi.fn();
    const el = chat(contact({ keyChanged: true }), {}, onAck);
    const banner = el.querySelector('[data-testid=identity-warning]');
    expect(banner?.getAttribute('role')).toBe('alert');
    expect(banner?.textContent).toMatch(/keys of “Bob” changed/);
    const button = [...banner!.querySelectorAll('button')].find((b) => b.textContent === 'Acknowledge and continue')!;
    act(() => button.click());
    expect(onAck).toHaveBeenCalledOnce();
  });
});

describe('settings: receipts', () => {
  it('shows both toggles and saves each change through the SDK', () => {
    let current: ReceiptSettings = { deliveryReceipts: true, readReceipts: true };
    const setReceiptSettings = vi.fn((patch: Partial<ReceiptSettings>) => (current = { ...current, ...patch }));
    // Settings also lists the account's devices (DevicesPanel): none needed here.
    const devices = { list: async () => [], on: () => noop };
    const client = { receiptSettings: () => current, setReceiptSettings, devices } as unknown as PigeonClient;
    const profile = { pigeonId: 'P', displayName: 'Ann', relayUrl: 'ws://r', accountId: 'a', deviceId: 'd' };
    const prefs = { locale: 'en', theme: 'system', onLocale: noop, onTheme: noop } as never;
    const el = mount(<SettingsPanel client={client} profile={profile} relayUrl="ws://r" prefs={prefs} onBack={noop} />);
    const read = el.querySelector<HTMLInputElement>('#read-receipts')!;
    const delivery = el.querySelector<HTMLInputElement>('#delivery-receipts')!;
    expect(read.checked).toBe(true);
    expect(delivery.checked).toBe(true);
    act(() => read.click());
    expect(setReceiptSettings).toHaveBeenLastCalledWith({ readReceipts: false });
    expect(el.querySelector<HTMLInputElement>('#read-receipts')!.checked).toBe(false);
    act(() => delivery.click());
    expect(setReceiptSettings).toHaveBeenLastCalledWith({ deliveryReceipts: false });
    expect(current).toEqual({ deliveryReceipts: false, readReceipts: false });
  });
});
