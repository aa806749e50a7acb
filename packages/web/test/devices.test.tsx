// @vitest-environment happy-dom
import { act } from 'preact/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { mount } from './dom-mount.js';
import type { DeviceAdded, DeviceInfo, LinkedAccount, LinkSession, PigeonClient, Profile } from '@pigeon/client';
import { canManageDevices, extractLinkCode, linkProblem, shortDeviceId, sortDevices } from '../src/logic/devices.js';
import { AddDevice } from '../src/ui/AddDevice.js';
import { DevicesPanel } from '../src/ui/DevicesPanel.js';
import { LinkDevice } from '../src/ui/LinkDevice.js';
import { RevokedNotice } from '../src/ui/RevokedNotice.js';

const CODE = 'pigeon://link/AQAbd3M6Ly8xMjcuMC4wLjE6Nzg3OC9waWdlb24_abc-DEF';
const relayErr = (code: string, cause?: string) => Object.assign(new Error(code), { code, cause: cause ? Object.assign(new Error(cause), { code: cause }) : undefined });
const device = (id: string, over: Partial<DeviceInfo> = {}): DeviceInfo => ({ id, current: false, addedAt: 1_764_000_000_000, accountKeyHolder: false, ...over });
const profile: Profile = { pigeonId: 'PGN-1', displayName: 'Alice', relayUrl: 'ws://r/pigeon', accountId: 'a1', deviceId: 'd2' };

/** Lets pending promises (the fake SDK's) settle and Preact re-render. */
const settle = () => act(async () => await new Promise((r) => setTimeout(r, 0)));
const button = (el: HTMLElement, text: string) => [...el.querySelectorAll('button')].find((b) => b.textContent === text) as HTMLButtonElement | undefined;
const typeInto = (el: HTMLTextAreaElement, value: string) =>
  act(() => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });

/** A fake `client.devices` whose `changed` / `revoked` listeners the test can fire. */
function fakeDevices(list: DeviceInfo[], over: Partial<PigeonClient['devices']> = {}) {
  const listeners: Record<string, (() => void)[]> = { changed: [], revoked: [] };
  let current = list;
  const devices = {
    list: vi.fn(async () => current),
    remove: vi.fn(async (id: string) => (current = current.filter((d) => d.id !== id))),
    add: vi.fn(),
    on: (event: string, fn: () => void) => {
      listeners[event]!.push(fn);
      return () => undefined;
    },
    ...over,
  };
  return {
    client: { devices } as unknown as PigeonClient,
    devices,
    setList: (next: DeviceInfo[]) => (current = next),
    fire: (event: 'changed' | 'revoked') => listeners[event]!.forEach((fn) => fn()),
  };
}

describe('devices logic', () => {
  it('finds a link code in pasted text and refuses other text', () => {
    expect(extractLinkCode(`  run: pigeon devices add ${CODE}\n`)).toBe(CODE);
    expect(extractLinkCode('pigeon://invite/abc')).toBeNull();
    expect(extractLinkCode('')).toBeNull();
  });

  it('names, orders and checks who may manage devices', () => {
    expect(shortDeviceId('3f2a91c0deadbeef')).toBe('3f2a 91c0');
    const list = [device('cc', { addedAt: 3 }), device('bb', { current: true, addedAt: 2 }), device('aa', { addedAt: 1 })];
    expect(sortDevices(list).map((d) => d.id)).toEqual(['bb', 'aa', 'cc']);
    expect(canManageDevices(list)).toBe(false);
    expect(canManageDevices([device('bb', { current: true, accountKeyHolder: true })])).toBe(true);
  });

  it('maps SDK errors to what went wrong', () => {
    expect(linkProblem(relayErr('TIMEOUT')).problem).toBe('expired');
    expect(linkProblem(relayErr('RELAY_REJECTED', 'UNKNOWN_PROVISIONING'))).toEqual({ problem: 'codeExpired', code: 'UNKNOWN_PROVISIONING' });
    expect(linkProblem(relayErr('RELAY_REJECTED', 'RATE_LIMITED'))).toEqual({ problem: 'refused', code: 'RATE_LIMITED' });
    expect(linkProblem(relayErr('LINK_FAILED')).problem).toBe('wrongAnswer');
    expect(linkProblem(relayErr('BAD_LINK')).problem).toBe('badCode');
    expect(linkProblem(relayErr('RELAY_UNREACHABLE')).problem).toBe('relay');
    expect(linkProblem(relayErr('BAD_ARGUMENT')).problem).toBe('account');
    expect(linkProblem(new Error('x'))).toEqual({ problem: 'other', code: 'UNKNOWN' });
  });
});

describe('DevicesPanel', () => {
  const primaryList = [device('aaaa1111', { current: true, accountKeyHolder: true }), device('bbbb2222'), device('cccc3333', { addedAt: 0 })];

  it('on the account-key device: marks this one, removes another after a confirmation, offers linking', async () => {
    const f = fakeDevices(primaryList);
    const el = mount(<DevicesPanel client={f.client} relayUrl="ws://r/pigeon" />);
    await settle();
    const rows = [...el.querySelectorAll('[data-testid=device-row]')];
    expect(rows.map((r) => r.getAttribute('data-device-id'))).toEqual(['aaaa1111', 'cccc3333', 'bbbb2222']);
    expect(rows.map((r) => r.getAttribute('data-current'))).toEqual(['true', 'false', 'false']);
    expect(rows[0]!.textContent).toContain('This browser');
    expect(rows[0]!.textContent).toContain('holds the account key');
    expect(rows[2]!.textContent).toContain('Device bbbb 2222');
    expect(rows[2]!.textContent).toContain('added');
    expect(rows[1]!.textContent).not.toContain('added');
    expect(rows[0]!.querySelector('button')).toBeNull();
    expect(el.querySelector('[data-testid=manage-from-primary]')).toBeNull();

    act(() => (rows[2]!.querySelector('button') as HTMLButtonElement).click());
    const dialog = el.querySelector('[role=alertdialog]')!;
    expect(dialog.textContent).toContain('Remove Device bbbb 2222?');
    expect(f.devices.remove).not.toHaveBeenCalled();
    await act(async () => (dialog.querySelector('button.danger') as HTMLButtonElement).click());
    await settle();
    expect(f.devices.remove).toHaveBeenCalledWith('bbbb2222');
    expect(el.querySelectorAll('[data-testid=device-row]').length).toBe(2);

    act(() => button(el, 'Link a new device')!.click());
    expect(el.querySelector('[data-testid=add-device]')).not.toBeNull();
  });

  it('on a linked device: no add/remove controls, and it says where to manage devices', async () => {
    const f = fakeDevices([device('aaaa1111'), device('bbbb2222', { current: true })]);
    const el = mount(<DevicesPanel client={f.client} relayUrl="ws://r/pigeon" />);
    await settle();
    expect(el.querySelectorAll('[data-testid=device-row]').length).toBe(2);
    expect(el.querySelectorAll('button').length).toBe(0);
    expect(el.querySelector('[data-testid=manage-from-primary]')!.textContent).toContain('Manage devices from your primary device');
  });

  it('follows the list live when the SDK reports a change', async () => {
    const f = fakeDevices([device('aaaa1111', { current: true, accountKeyHolder: true })]);
    const el = mount(<DevicesPanel client={f.client} relayUrl="ws://r/pigeon" />);
    await settle();
    expect(el.querySelectorAll('[data-testid=device-row]').length).toBe(1);
    f.setList([device('aaaa1111', { current: true, accountKeyHolder: true }), device('dddd4444')]);
    f.fire('changed');
    await settle();
    expect(el.querySelectorAll('[data-testid=device-row]').length).toBe(2);
  });
});

describe('AddDevice (the account-key side of linking)', () => {
  const added: DeviceAdded = { deviceId: 'eeee5555', pigeonId: 'PGN-1', confirmationCode: '123456' };

  it('refuses text that is not a link code without calling the SDK', async () => {
    const f = fakeDevices([]);
    const el = mount(<AddDevice client={f.client} relayUrl="ws://r/pigeon" onClose={() => undefined} />);
    await typeInto(el.querySelector('textarea')!, 'pigeon://invite/xyz');
    await act(async () => void el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true })));
    expect(el.querySelector('[data-testid=add-device-error]')!.textContent).toContain('not a link code');
    expect(f.devices.add).not.toHaveBeenCalled();
  });

  it('links the pasted code and shows the code to compare; "they differ" removes the device again', async () => {
    const f = fakeDevices([], { add: vi.fn(async () => added) });
    const onClose = vi.fn();
    const el = mount(<AddDevice client={f.client} relayUrl="ws://r/pigeon" onClose={onClose} />);
    await typeInto(el.querySelector('textarea')!, `pigeon devices add ${CODE}`);
    await act(async () => void el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true })));
    await settle();
    expect(f.devices.add).toHaveBeenCalledWith(CODE);
    expect(el.querySelector('[data-testid=added-confirmation-code]')!.textContent).toBe('123456');
    expect(el.querySelector('[data-testid=added-pigeon-id]')!.textContent).toBe('PGN-1');
    await act(async () => button(el, 'They differ: remove it')!.click());
    await settle();
    expect(f.devices.remove).toHaveBeenCalledWith('eeee5555');
    expect(onClose).toHaveBeenCalled();
  });

  it('says when the code expired or was used', async () => {
    const f = fakeDevices([], { add: vi.fn(async () => Promise.reject(relayErr('RELAY_REJECTED', 'UNKNOWN_PROVISIONING'))) });
    const el = mount(<AddDevice client={f.client} relayUrl="ws://r/pigeon" onClose={() => undefined} />);
    await typeInto(el.querySelector('textarea')!, CODE);
    await act(async () => void el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true })));
    await settle();
    expect(el.querySelector('[data-testid=add-device-error]')!.textContent).toContain('expired or was already used');
  });
});

describe('LinkDevice (the new-device side of linking)', () => {
  function fakeSession() {
    let answer!: (a: LinkedAccount) => void;
    let fail!: (e: unknown) => void;
    const account = new Promise<LinkedAccount>((res, rej) => ((answer = res), (fail = rej)));
    account.catch(() => undefined);
    const session = { linkCode: CODE, account, confirm: vi.fn(async () => profile), cancel: vi.fn() } satisfies LinkSession;
    return { session, answer, fail };
  }
  const clientWith = (startLink: () => Promise<LinkSession>) =>
    ({
      devices: { startLink: vi.fn(startLink), announce: vi.fn(async () => undefined) },
      connect: vi.fn(async () => undefined),
    }) as unknown as PigeonClient;

  it('shows the code, then the confirmation code; registers only after "they match"', async () => {
    const s = fakeSession();
    const client = clientWith(async () => s.session);
    const onLinked = vi.fn();
    const el = mount(<LinkDevice client={client} relayUrl="ws://r/pigeon" onLinked={onLinked} onCancel={() => undefined} />);
    await settle();
    expect((el.querySelector('[data-testid=link-code]') as HTMLTextAreaElement).value).toBe(CODE);
    expect(el.querySelector('.qr')).not.toBeNull();
    expect(button(el, 'Copy')).toBeDefined();
    await act(async () => s.answer({ pigeonId: 'PGN-1', confirmationCode: '654321', displayName: 'Alice' }));
    await settle();
    expect(el.querySelector('[data-testid=link-confirmation-code]')!.textContent).toBe('654321');
    expect(s.session.confirm).not.toHaveBeenCalled();
    await act(async () => button(el, 'They match: link this browser')!.click());
    await settle();
    expect(s.session.confirm).toHaveBeenCalled();
    expect(client.devices.announce).toHaveBeenCalled();
    expect(onLinked).toHaveBeenCalledWith(profile);
  });

  it('"they differ" cancels without registering', async () => {
    const s = fakeSession();
    const el = mount(<LinkDevice client={clientWith(async () => s.session)} relayUrl="ws://r/pigeon" onLinked={() => undefined} onCancel={() => undefined} />);
    await settle();
    await act(async () => s.answer({ pigeonId: 'PGN-1', confirmationCode: '654321', displayName: 'Alice' }));
    await settle();
    await act(async () => button(el, 'They differ: cancel')!.click());
    expect(s.session.cancel).toHaveBeenCalled();
    expect(s.session.confirm).not.toHaveBeenCalled();
    expect(el.querySelector('[data-testid=link-error]')!.getAttribute('data-problem')).toBe('cancelled');
  });

  it('reports an expired code and an unreachable relay, and can start again', async () => {
    const s = fakeSession();
    let calls = 0;
    const client = clientWith(async () => {
      calls++;
      if (calls === 1) return s.session;
      throw relayErr('RELAY_UNREACHABLE');
    });
    const el = mount(<LinkDevice client={client} relayUrl="ws://r/pigeon" onLinked={() => undefined} onCancel={() => undefined} />);
    await settle();
    await act(async () => s.fail(relayErr('TIMEOUT')));
    await settle();
    expect(el.querySelector('[data-testid=link-error]')!.textContent).toContain('expired');
    await act(async () => button(el, 'Start again')!.click());
    await settle();
    expect(el.querySelector('[data-testid=link-error]')!.getAttribute('data-problem')).toBe('relay');
    expect(el.querySelector('[data-testid=link-error]')!.textContent).toContain('cannot be reached');
  });
});

describe('RevokedNotice', () => {
  it('closes the client and resets the profile only after a confirmation', async () => {
    const client = { close: vi.fn(async () => undefined) } as unknown as PigeonClient;
    const onReset = vi.fn(async () => undefined);
    const el = mount(<RevokedNotice client={client} onReset={onReset} />);
    await settle();
    expect(el.querySelector('[data-testid=revoked]')!.textContent).toContain('This browser was removed from your account');
    expect(client.close).toHaveBeenCalled();
    act(() => button(el, 'Reset this browser')!.click());
    expect(onReset).not.toHaveBeenCalled();
    await act(async () => (el.querySelector('[role=alertdialog] button.danger') as HTMLButtonElement).click());
    expect(onReset).toHaveBeenCalledWith(client);
  });
});
