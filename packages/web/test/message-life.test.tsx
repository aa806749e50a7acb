// @vitest-environment happy-dom
import { act } from 'preact/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { mount } from './dom-mount.js';
import type { Contact, PigeonClient, StoredMessage } from '@pigeon/client';
import { TYPING_TTL_MS } from '@pigeon/client';
import { initialState, reducer } from '../src/logic/app-state.js';
import { QUICK_REACTIONS, groupReactions, isTyping, timerLabel } from '../src/logic/life.js';
import { ChatView } from '../src/ui/ChatView.js';
import { MessageBubble } from '../src/ui/MessageBubble.js';
import type { MessageActions } from '../src/ui/MessageBubble.js';

const msg = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  id: 'm1', contactId: 'c1', direction: 'in', text: 'hello', sentAt: 1000, receivedAt: 1001, state: 'delivered', read: false, ...over,
});
const contact: Contact = { id: 'c1', name: 'Bob', pigeonId: 'p-c1', relayUrl: 'ws://r/pigeon', verified: false, addedAt: 1, keyChanged: false };

const noop = () => undefined;

describe('message-life logic', () => {
  it('a status event keeps reactions and edits; a reload replaces the list', () => {
    let s = reducer(initialState, { type: 'message', message: msg({ direction: 'out', state: 'sent', reactions: [{ senderId: 'c1', emoji: '👍' }], edited: true }) });
    s = reducer(s, { type: 'status', message: msg({ direction: 'out', state: 'read' }) });
    expect(s.messages.c1![0]).toMatchObject({ state: 'read', edited: true, reactions: [{ senderId: 'c1', emoji: '👍' }] });
    s = reducer(s, { type: 'reload', contactId: 'c1', messages: [] });
    expect(s.messages.c1).toEqual([]);
  });

  it('typing shows until a stop, a message, or TYPING_TTL_MS', () => {
    let s = reducer(initialState, { type: 'typing', contactId: 'c1', at: 5_000 });
    expect(isTyping(s.typing, 'c1', 5_001)).toBe(true);
    expect(isTyping(s.typing, 'c1', 5_000 + TYPING_TTL_MS)).toBe(false);
    s = reducer(s, { type: 'message', message: msg() });
    expect(isTyping(s.typing, 'c1', 5_001)).toBe(false);
    s = reducer(reducer(s, { type: 'typing', contactId: 'c1', at: 6_000 }), { type: 'typing', contactId: 'c1', at: null });
    expect(isTyping(s.typing, 'c1', 6_001)).toBe(false);
  });

  it('groups reactions and labels timers', () => {
    expect(groupReactions([{ senderId: 'a', emoji: '👍' }, { senderId: 'me', emoji: '👍' }, { senderId: 'b', emoji: '❤️' }], 'me')).toEqual([
      { emoji: '👍', count: 2, mine: true },
      { emoji: '❤️', count: 1, mine: false },
    ]);
    expect(timerLabel(0, 'Off')).toBe('Off');
    expect(timerLabel(3_600_000, 'Off')).toBe('1 h');
  });
});

describe('message bubble with message life', () => {
  const actions = (): MessageActions & Record<string, ReturnType<typeof vi.fn>> => ({
    me: 'me', onReply: vi.fn(), onReact: vi.fn(), onEdit: vi.fn(), onDelete: vi.fn(),
  }) as never;

  it('shows the quote, reactions, edited and the tombstone', () => {
    const el = mount(
      <div>
        <MessageBubble m={msg({ replyTo: 'm0', quote: 'the question', edited: true, reactions: [{ senderId: 'me', emoji: '👍' }], timerMs: 60_000, expiresAt: null })} />
        <MessageBubble m={msg({ id: 'm2', text: '', deleted: true })} />
      </div>,
    );
    expect(el.querySelector('[data-testid=quote]')?.textContent).toBe('the question');
    expect(el.querySelector('[data-testid=reactions]')?.textContent).toContain('👍');
    expect(el.querySelector('[data-testid=edited]')).not.toBeNull();
    expect(el.querySelector('[data-testid=disappearing]')).not.toBeNull();
    const texts = [...el.querySelectorAll('[data-testid=message-text]')].map((p) => p.textContent);
    expect(texts[1]).toBe('Message deleted');
  });

  it('offers reply and reactions on any message, edit and delete only on ours', () => {
    const a = actions();
    const el = mount(
      <div>
        <MessageBubble m={msg()} actions={a} />
        <MessageBubble m={msg({ id: 'm2', direction: 'out', state: 'sent' })} actions={a} />
      </div>,
    );
    const [theirs, ours] = [...el.querySelectorAll('[data-testid=message]')];
    expect(theirs!.querySelector('[data-testid=edit]')).toBeNull();
    expect(ours!.querySelector('[data-testid=edit]')).not.toBeNull();
    act(() => (theirs!.querySelector('[data-testid=react]') as HTMLButtonElement).click());
    const picker = theirs!.querySelector('[data-testid=reaction-picker]')!;
    expect(picker.querySelectorAll('button').length).toBe(QUICK_REACTIONS.length);
    act(() => (picker.querySelector('button') as HTMLButtonElement).click());
    expect(a.onReact).toHaveBeenCalledWith(expect.objectContaining({ id: 'm1' }), QUICK_REACTIONS[0]);
    act(() => (ours!.querySelector('[data-testid=delete]') as HTMLButtonElement).click());
    expect(a.onDelete).toHaveBeenCalled();
  });

  it('a file we sent can be deleted but not edited; copy takes its caption', () => {
    const el = mount(
      <MessageBubble m={msg({ direction: 'out', state: 'sent', text: '[file] a.png (3 KB) the view' })} actions={actions()} attachment={{ node: <span />, caption: 'the view' }} />,
    );
    expect(el.querySelector('[data-testid=edit]')).toBeNull();
    expect(el.querySelector('[data-testid=delete]')).not.toBeNull();
    expect(el.textContent).toContain('the view');
    expect(el.textContent).not.toContain('[file]');
  });
});

describe('chat view with message life', () => {
  it('replies through client.reply, shows typing and changes the timer', async () => {
    const reply = vi.fn(async (id: string, text: string) => msg({ id: 'r1', direction: 'out', text, replyTo: id, state: 'queued' }));
    const setDisappearingTimer = vi.fn(async (_c: string, ms: number) => ms);
    const client = {
      disappearingTimer: () => 0,
      blockedContacts: () => [],
      on: () => noop,
      profile: () => ({ accountId: 'me' }),
      sendTyping: vi.fn(async () => true),
      attachment: () => undefined,
      reply,
      setDisappearingTimer,
    } as unknown as PigeonClient;
    const onSent = vi.fn();
    const el = mount(
      <ChatView client={client} contact={contact} messages={[msg()]} warning={null} onSent={onSent} onSafety={noop} onDismissWarning={noop} onAcknowledgeKeyChange={noop} onBack={noop} typing />,
    );
    expect(el.querySelector('[data-testid=typing]')?.textContent).toContain('Bob');
    act(() => (el.querySelector('[data-testid=reply]') as HTMLButtonElement).click());
    expect(el.querySelector('[data-testid=replying]')).not.toBeNull();
    const input = el.querySelector('textarea')!;
    await act(async () => {
      input.value = 'sure';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => {
      (el.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    expect(reply).toHaveBeenCalledWith('m1', 'sure');
    expect(onSent).toHaveBeenCalled();
    const select = el.querySelector('[data-testid=timer-select]') as HTMLSelectElement;
    await act(async () => {
      select.value = '3600000';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(setDisappearingTimer).toHaveBeenCalledWith('c1', 3_600_000);
  });
});
