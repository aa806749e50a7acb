// @vitest-environment happy-dom
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AttachmentInfo, Contact, Group, GroupMessage, PigeonClient, TransferProgress } from '@pigeon/client';
import { ClientError } from '@pigeon/client';
import { initialState } from '../src/logic/app-state.js';
import {
  addableContacts,
  extractGroupLink,
  groupErrorKey,
  groupPermission,
  groupsReducer,
  groupUnreadCount,
  initialGroupsState,
  mixConversations,
  senderNameOf,
  webGroupLink,
} from '../src/logic/groups.js';
import { en } from '../src/i18n/en.js';
import { ru } from '../src/i18n/ru.js';
import { AcceptInvite } from '../src/ui/AcceptInvite.js';
import { ConversationList } from '../src/ui/ConversationList.js';
import { GroupChatView } from '../src/ui/GroupChatView.js';
import { GroupInfoPanel } from '../src/ui/GroupInfoPanel.js';
import { NewGroupPanel } from '../src/ui/NewGroupPanel.js';
import { mount } from './dom-mount.js';

const contact = (id: string, name: string, addedAt = 1): Contact => ({ id, name, pigeonId: `p-${id}`, relayUrl: 'ws://r/pigeon', verified: false, addedAt, keyChanged: false });
const ann = contact('ann', 'Ann');
const bob = contact('bob', 'Bob');
const cat = contact('cat', 'Cat');
const member = (id: string, name: string, over: Partial<Group['members'][number]> = {}) => ({ id, pigeonId: `p-${id}`, name, admin: false, self: false, devices: 1, ...over });
const group = (over: Partial<Group> = {}): Group => ({
  id: 'g1',
  name: 'Hikers',
  epoch: 1,
  members: [member('me', 'you', { admin: true, self: true }), member('ann', 'Ann'), member('bob', 'Bob')],
  isAdmin: true,
  active: true,
  createdAt: 10,
  ...over,
});
const gmsg = (over: Partial<GroupMessage> = {}): GroupMessage => ({
  id: 'm1', groupId: 'g1', senderId: 'ann', senderName: 'Ann', direction: 'in', text: 'hello group', sentAt: 100, receivedAt: 101, state: 'delivered', read: false, ...over,
});

afterEach(() => {
  vi.unstubAllGlobals();
});
const noop = () => undefined;
const input = async (el: HTMLInputElement | HTMLTextAreaElement, value: string) =>
  act(async () => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
const submit = async (form: Element) =>
  act(async () => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
const click = async (el: Element) =>
  act(async () => {
    (el as HTMLElement).click();
  });

describe('group logic', () => {
  it('keeps messages per group in time order, counts unread and marks read', () => {
    let s = groupsReducer(initialGroupsState, { type: 'loaded', groups: [group()], messages: {} });
    s = groupsReducer(s, { type: 'message', message: gmsg({ id: 'b', sentAt: 200 }) });
    s = groupsReducer(s, { type: 'message', message: gmsg({ id: 'a', sentAt: 100 }) });
    s = groupsReducer(s, { type: 'message', message: gmsg({ id: 'o', sentAt: 300, direction: 'out', read: true, state: 'queued' }) });
    expect(s.messages.g1!.map((m) => m.id)).toEqual(['a', 'b', 'o']);
    expect(groupUnreadCount(s, 'g1')).toBe(2);
    s = groupsReducer(s, { type: 'read', groupId: 'g1', ids: ['a'] });
    expect(groupUnreadCount(s, 'g1')).toBe(1);
    s = groupsReducer(s, { type: 'message', message: gmsg({ id: 'o', sentAt: 300, direction: 'out', read: true, state: 'sent' }) });
    expect(s.messages.g1!.at(-1)!.state).toBe('sent');
    s = groupsReducer(s, { type: 'group', group: group({ name: 'Climbers' }) });
    expect(s.groups.map((g) => g.name)).toEqual(['Climbers']);
  });

  it('mixes groups with 1:1 chats by latest activity', () => {
    const s = groupsReducer(groupsReducer(initialGroupsState, { type: 'group', group: group() }), { type: 'message', message: gmsg({ sentAt: 50 }) });
    const items = mixConversations([{ contact: ann, at: 80 }, { contact: bob, at: 20 }], s);
    expect(items.map((i) => (i.kind === 'group' ? i.group.name : i.contact.name))).toEqual(['Ann', 'Hikers', 'Bob']);
  });

  it('says why a change cannot be made', () => {
    expect(groupPermission(group(), 'admin', true)).toEqual({ ok: true });
    expect(groupPermission(group({ isAdmin: false }), 'admin', true)).toEqual({ ok: false, reason: 'groupNeedsAdmin' });
    expect(groupPermission(group({ isAdmin: false }), 'leave', true)).toEqual({ ok: true });
    expect(groupPermission(group(), 'leave', false)).toEqual({ ok: false, reason: 'groupNeedsAccountKey' });
    expect(groupPermission(group({ active: false, isAdmin: false }), 'leave', true)).toEqual({ ok: false, reason: 'groupNotMember' });
    expect(groupErrorKey('GROUP_PERMISSION', 'actionFailed')).toBe('groupErrPermission');
    expect(groupErrorKey('NETWORK', 'actionFailed')).toBe('actionFailed');
    expect(addableContacts(group(), [ann, bob, cat]).map((c) => c.name)).toEqual(['Cat']);
    expect(senderNameOf(gmsg({ senderName: 'P-1234' }), [contact('ann', 'Annie')])).toBe('Annie');
  });

  it('finds group links in pasted text and the URL fragment', () => {
    const sdk = 'pigeon://group/AQIDBA_-x';
    expect(extractGroupLink(`  ${sdk} `)).toBe(sdk);
    const web = webGroupLink(sdk, 'https://relay.example/app/?x=1#old');
    expect(web).toBe('https://relay.example/app/#group=AQIDBA_-x');
    expect(extractGroupLink(web)).toBe(sdk);
    expect(extractGroupLink('pigeon://invite/AQID')).toBeNull();
    expect(extractGroupLink('pigeon://group/<script>')).toBeNull();
  });

  it('has every group string in Russian too', () => {
    const keys = Object.keys(en).filter((k) => k.startsWith('group') || k === 'newGroup' || k === 'newGroupMessage');
    expect(keys.length).toBeGreaterThan(30);
    for (const k of keys) expect(ru[k as keyof typeof ru], k).toBeTruthy();
  });
});

describe('group components', () => {
  it('lists groups beside 1:1 chats with their unread count', () => {
    let gs = groupsReducer(initialGroupsState, { type: 'group', group: group() });
    gs = groupsReducer(gs, { type: 'message', message: gmsg() });
    gs = groupsReducer(gs, { type: 'message', message: gmsg({ id: 'm2', sentAt: 120 }) });
    const onOpenGroup = vi.fn();
    const el = mount(<ConversationList state={{ ...initialState, contacts: [bob] }} onOpen={noop} groups={gs} onOpenGroup={onOpenGroup} />);
    const rows = [...el.querySelectorAll('[data-testid=conversation]')];
    expect(rows.map((r) => r.getAttribute('data-kind'))).toEqual(['group', null]);
    expect(rows[0]!.querySelector('[data-testid=unread]')?.textContent).toBe('2');
    expect(rows[0]!.textContent).toContain('Ann: hello group');
    act(() => (rows[0] as HTMLButtonElement).click());
    expect(onOpenGroup).toHaveBeenCalledWith('g1');
  });

  it('names the author of each incoming message and sends through client.groups', async () => {
    const send = vi.fn(async (_g: string, text: string) => gmsg({ id: 'o1', direction: 'out', text, senderId: 'me', senderName: 'you', state: 'queued', read: true }));
    const onSent = vi.fn();
    const client = { groups: { send, attachment: () => undefined } } as unknown as PigeonClient;
    const el = mount(
      <GroupChatView client={client} group={group()} messages={[gmsg(), gmsg({ id: 'm2', senderId: 'bob', senderName: 'p-bob', text: 'hi all' })]} contacts={[ann, bob]} onSent={onSent} onInfo={noop} onBack={noop} />,
    );
    expect([...el.querySelectorAll('[data-testid=sender]')].map((s) => s.textContent)).toEqual(['Ann', 'Bob']);
    await input(el.querySelector('textarea')!, 'see you at 8');
    await submit(el.querySelector('form')!);
    expect(send).toHaveBeenCalledWith('g1', 'see you at 8');
    expect(onSent).toHaveBeenCalledWith(expect.objectContaining({ id: 'o1' }));
    expect(el.querySelector('[data-testid=group-removed]')).toBeNull();
  });

  it('shows that we were removed and does not let us write', () => {
    const el = mount(<GroupChatView client={{} as PigeonClient} group={group({ active: false, isAdmin: false })} messages={[]} contacts={[]} onSent={noop} onInfo={noop} onBack={noop} />);
    expect(el.querySelector('[data-testid=group-removed]')?.textContent).toMatch(/removed/);
    expect((el.querySelector('textarea') as HTMLTextAreaElement).disabled).toBe(true);
    expect((el.querySelector('[data-testid=attach]') as HTMLButtonElement).disabled).toBe(true);
  });

  it('files in a group: an image shows inline with its caption, another file offers Download; the attach button sends to the group', async () => {
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:test/img');
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const infos: Record<string, AttachmentInfo> = {
      img: { fileName: 'summit.png', contentType: 'image/png', size: 2048 },
      doc: { fileName: 'route.pdf', contentType: 'application/pdf', size: 5000 },
    };
    const downloadAttachmentBytes = vi.fn(async () => new Uint8Array([137, 80, 78, 71]));
    let finish: (m: GroupMessage) => void = noop;
    const sendAttachmentBlob = vi.fn(
      (_g: string, _b: Blob, o: { onProgress?: (p: TransferProgress) => void }) =>
        new Promise<GroupMessage>((resolve) => {
          o.onProgress?.({ phase: 'upload', done: 1, total: 4 });
          finish = resolve;
        }),
    );
    const client = { groups: { attachment: (id: string) => infos[id], sendAttachmentBlob }, downloadAttachmentBytes } as unknown as PigeonClient;
    const onSent = vi.fn();
    const messages = [gmsg({ id: 'img', text: '[file] summit.png (2.0 KB) made it!' }), gmsg({ id: 'doc', text: '[file] route.pdf (4.9 KB)', sentAt: 110 }), gmsg({ id: 'txt', text: 'plain', sentAt: 120 })];
    const el = mount(<GroupChatView client={client} group={group()} messages={messages} contacts={[ann]} onSent={onSent} onInfo={noop} onBack={noop} />);
    await act(async () => new Promise((r) => setTimeout(r, 0)));
    const bubbles = [...el.querySelectorAll('[data-testid=message]')];
    expect(downloadAttachmentBytes).toHaveBeenCalledWith('img', expect.objectContaining({ allowedOrigins: [location.origin] }));
    expect(downloadAttachmentBytes).toHaveBeenCalledTimes(1);
    expect(bubbles[0]!.querySelector('img[data-testid=attachment-image]')?.getAttribute('src')).toBe('blob:test/img');
    expect(bubbles[0]!.querySelector('[data-testid=message-text]')?.textContent).toBe('made it!');
    expect(bubbles[1]!.querySelector('[data-testid=attachment]')?.getAttribute('data-kind')).toBe('file');
    expect(bubbles[1]!.querySelector('[data-testid=attachment-download]')).not.toBeNull();
    expect(bubbles[1]!.querySelector('[data-testid=message-text]')).toBeNull();
    expect(bubbles[2]!.querySelector('[data-testid=attachment]')).toBeNull();
    expect(bubbles[2]!.querySelector('[data-testid=message-text]')?.textContent).toBe('plain');

    const picker = el.querySelector('[data-testid=attach-input]') as HTMLInputElement;
    const photo = new File([new Uint8Array(8)], 'photo.png', { type: 'image/png' });
    Object.defineProperty(picker, 'files', { value: { length: 1, item: () => photo }, configurable: true });
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(sendAttachmentBlob).toHaveBeenCalledWith('g1', photo, expect.objectContaining({ fileName: 'photo.png' }));
    expect(el.querySelector('[data-testid=upload]')?.textContent).toContain('photo.png');
    await act(async () => finish(gmsg({ id: 'new', direction: 'out', text: '[file] photo.png (8 B)', senderId: 'me', senderName: 'you', state: 'queued', read: true })));
    expect(onSent).toHaveBeenCalledWith(expect.objectContaining({ id: 'new' }));
    expect(el.querySelector('[data-testid=upload]')).toBeNull();
    vi.restoreAllMocks();
  });

  it('a file pasted or dropped into a group chat goes to the group; pasted text stays text', async () => {
    const sendAttachmentBlob = vi.fn(async () => gmsg({ id: 'p', direction: 'out', text: '[file] shot.png (8 B)' }));
    const client = { groups: { attachment: () => undefined, sendAttachmentBlob } } as unknown as PigeonClient;
    const el = mount(<GroupChatView client={client} group={group()} messages={[]} contacts={[ann]} onSent={noop} onInfo={noop} onBack={noop} />);
    const shot = new File([new Uint8Array(8)], 'shot.png', { type: 'image/png' });
    const transfer = (files: File[]) => ({ files: { length: files.length, item: (i: number) => files[i] ?? null }, types: files.length ? ['Files'] : ['text/plain'] });
    const paste = (files: File[]) => {
      const e = new Event('paste', { bubbles: true, cancelable: true });
      Object.defineProperty(e, 'clipboardData', { value: transfer(files) });
      return e;
    };
    const input = el.querySelector('textarea, input[type=text]') as HTMLElement;
    const textPaste = paste([]);
    await act(async () => void input.dispatchEvent(textPaste));
    expect(sendAttachmentBlob).not.toHaveBeenCalled();
    expect(textPaste.defaultPrevented).toBe(false);
    await act(async () => void input.dispatchEvent(paste([shot])));
    expect(sendAttachmentBlob).toHaveBeenCalledWith('g1', shot, expect.objectContaining({ fileName: 'shot.png' }));
    const drop = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', { value: transfer([shot]) });
    await act(async () => void el.querySelector('[data-testid=group-chat]')!.dispatchEvent(drop));
    expect(sendAttachmentBlob).toHaveBeenCalledTimes(2);
    expect(drop.defaultPrevented).toBe(true);
  });

  it('creates a group with the picked contacts', async () => {
    const created = group();
    const create = vi.fn(async () => created);
    const onCreated = vi.fn();
    const el = mount(<NewGroupPanel client={{ groups: { create } } as unknown as PigeonClient} contacts={[ann, bob, cat]} hasAccountKey={true} onCreated={onCreated} onBack={noop} />);
    await input(el.querySelector('#group-name') as HTMLInputElement, 'Hikers');
    const picks = [...el.querySelectorAll('[data-testid=pick-contact]')] as HTMLInputElement[];
    await act(async () => {
      picks[0]!.checked = true;
      picks[0]!.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => {
      picks[2]!.checked = true;
      picks[2]!.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await submit(el.querySelector('form')!);
    expect(create).toHaveBeenCalledWith('Hikers', ['ann', 'cat']);
    expect(onCreated).toHaveBeenCalledWith(created);
  });

  it('explains and disables group creation on a device without the account key', () => {
    const el = mount(<NewGroupPanel client={{} as PigeonClient} contacts={[ann]} hasAccountKey={false} onCreated={noop} onBack={noop} />);
    expect(el.querySelector('[data-testid=group-permission]')?.textContent).toMatch(/first device/);
    expect((el.querySelector('button[type=submit]') as HTMLButtonElement).disabled).toBe(true);
  });

  it('info panel: admin badge, remove, make admin, add, rename, invite link; the SDK code on errors', async () => {
    vi.stubGlobal('confirm', () => true);
    const groups = {
      remove: vi.fn(async () => group({ members: group().members.filter((m) => m.id !== 'bob') })),
      setAdmin: vi.fn(async () => group()),
      add: vi.fn(async () => group()),
      rename: vi.fn(async () => {
        throw new ClientError('GROUP_PERMISSION', 'no');
      }),
      createInviteLink: vi.fn(async () => ({ link: 'pigeon://group/AQID' })),
    };
    const onChanged = vi.fn();
    const el = mount(<GroupInfoPanel client={{ groups } as unknown as PigeonClient} group={group()} contacts={[ann, bob, cat]} hasAccountKey={true} appUrl="https://r.example/app/" onChanged={onChanged} onBack={noop} />);
    const rows = [...el.querySelectorAll('[data-testid=member]')];
    expect(rows.map((r) => r.querySelector('.member-name')?.textContent)).toEqual(['You', 'Ann', 'Bob']);
    expect(rows[0]!.querySelector('[data-testid=admin-badge]')).not.toBeNull();
    expect(rows[1]!.querySelector('[data-testid=admin-badge]')).toBeNull();
    expect(rows[0]!.querySelector('[data-testid=remove-member]')).toBeNull();
    await click(rows[2]!.querySelector('[data-testid=remove-member]')!);
    expect(groups.remove).toHaveBeenCalledWith('g1', ['bob']);
    expect(onChanged).toHaveBeenCalled();
    await click(rows[1]!.querySelector('[data-testid=toggle-admin]')!);
    expect(groups.setAdmin).toHaveBeenCalledWith('g1', 'ann', true);
    const pick = el.querySelector('[data-testid=add-pick]') as HTMLInputElement;
    await act(async () => {
      pick.checked = true;
      pick.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await click(el.querySelector('[data-testid=add-members]')!);
    expect(groups.add).toHaveBeenCalledWith('g1', ['cat']);
    await input(el.querySelector('#group-rename') as HTMLInputElement, 'Climbers');
    await submit(el.querySelector('#group-rename')!.closest('form')!);
    expect(groups.rename).toHaveBeenCalledWith('g1', 'Climbers');
    expect(el.querySelector('[data-testid=group-error]')?.textContent).toContain('GROUP_PERMISSION');
    await click(el.querySelector('[data-testid=create-group-invite]')!);
    expect((el.querySelector('[data-testid=group-invite-link]') as HTMLTextAreaElement).value).toBe('https://r.example/app/#group=AQID');
  });

  it('info panel for a member who is not an admin: no change controls, the reason instead; leave allowed', () => {
    const el = mount(<GroupInfoPanel client={{} as PigeonClient} group={group({ isAdmin: false })} contacts={[cat]} hasAccountKey={true} appUrl="https://r/app/" onChanged={noop} onBack={noop} />);
    expect(el.querySelector('[data-testid=group-permission]')?.textContent).toMatch(/Only an admin/);
    expect(el.querySelector('[data-testid=remove-member]')).toBeNull();
    expect(el.querySelector('[data-testid=add-members]')).toBeNull();
    expect(el.querySelector('[data-testid=create-group-invite]')).toBeNull();
    expect((el.querySelector('[data-testid=leave-group]') as HTMLButtonElement).disabled).toBe(false);
  });

  it('the add-contact form joins a group when given a group link', async () => {
    const onJoinGroup = vi.fn(async () => undefined);
    const acceptInvite = vi.fn();
    const el = mount(<AcceptInvite client={{ acceptInvite } as unknown as PigeonClient} onAccepted={noop} onJoinGroup={onJoinGroup} onBack={noop} />);
    await input(el.querySelector('textarea')!, 'https://r.example/app/#group=AQID');
    await submit(el.querySelector('form')!);
    expect(onJoinGroup).toHaveBeenCalledWith('pigeon://group/AQID');
    expect(acceptInvite).not.toHaveBeenCalled();
  });

  it('shows the SDK code when joining fails', async () => {
    const onJoinGroup = vi.fn(async () => {
      throw new ClientError('BAD_LINK', 'damaged');
    });
    const el = mount(<AcceptInvite client={{} as PigeonClient} onAccepted={noop} onJoinGroup={onJoinGroup} onBack={noop} />);
    await input(el.querySelector('textarea')!, 'pigeon://group/AQID');
    await submit(el.querySelector('form')!);
    expect(el.querySelector('[role=alert]')?.textContent).toBe('This is not a valid group link (BAD_LINK).');
  });
});
