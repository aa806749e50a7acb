// @vitest-environment happy-dom
// The camera dialog with a fake getUserMedia: typed problems, Escape/Cancel, tracks stopped.
import { act } from 'preact/test-utils';
import { render } from 'preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mount } from './dom-mount.js';
import QrScanner from '../src/ui/QrScanner.js';

const settle = () => act(async () => await new Promise((r) => setTimeout(r, 0)));
const noop = () => undefined;

function fakeCamera(getUserMedia: () => Promise<unknown>) {
  Object.defineProperty(navigator, 'mediaDevices', { configurable: true, value: { getUserMedia: vi.fn(getUserMedia) } });
}
function fakeStream() {
  const track = { stop: vi.fn() };
  return { track, stream: { getTracks: () => [track] } };
}

afterEach(() => {
  Object.defineProperty(navigator, 'mediaDevices', { configurable: true, value: undefined });
});

describe('QrScanner', () => {
  it('names a denied permission', async () => {
    fakeCamera(async () => {
      throw Object.assign(new Error('denied'), { name: 'NotAllowedError' });
    });
    const el = mount(<QrScanner onResult={noop} onClose={noop} />);
    await settle();
    const problem = el.querySelector('[data-testid=scan-problem]');
    expect(problem?.getAttribute('data-problem')).toBe('PERMISSION_DENIED');
    expect(problem?.textContent).toMatch(/denied/);
  });

  it('names a busy camera, and no camera API at all', async () => {
    fakeCamera(async () => {
      throw Object.assign(new Error('busy'), { name: 'NotReadableError' });
    });
    const el = mount(<QrScanner onResult={noop} onClose={noop} />);
    await settle();
    expect(el.querySelector('[data-testid=scan-problem]')?.getAttribute('data-problem')).toBe('CAMERA_BUSY');
    Object.defineProperty(navigator, 'mediaDevices', { configurable: true, value: undefined });
    const none = mount(<QrScanner onResult={noop} onClose={noop} />);
    await settle();
    expect(none.querySelector('[data-testid=scan-problem]')?.getAttribute('data-problem')).toBe('NO_CAMERA');
  });

  it('asks for the rear camera; Escape and Cancel close; unmount stops the tracks', async () => {
    const { track, stream } = fakeStream();
    fakeCamera(async () => stream);
    const onClose = vi.fn();
    const el = mount(<QrScanner onResult={noop} onClose={onClose} />);
    await settle();
    expect(navigator.mediaDevices.getUserMedia).toHaveBeenCalledWith({ video: { facingMode: 'environment' }, audio: false });
    await act(() => {
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    });
    expect(onClose).toHaveBeenCalledTimes(1);
    const cancel = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Cancel')!;
    await act(() => cancel.click());
    expect(onClose).toHaveBeenCalledTimes(2);
    expect(track.stop).not.toHaveBeenCalled();
    act(() => render(null, el));
    expect(track.stop).toHaveBeenCalled();
  });

  it('stops a camera that starts after the dialog closed', async () => {
    const { track, stream } = fakeStream();
    let resolve: (s: unknown) => void = noop;
    fakeCamera(() => new Promise((r) => (resolve = r)));
    const el = mount(<QrScanner onResult={noop} onClose={noop} />);
    act(() => render(null, el));
    resolve(stream);
    await settle();
    expect(track.stop).toHaveBeenCalled();
  });
});
