// @vitest-environment happy-dom
import { useRef, useState } from 'preact/hooks';
import { act } from 'preact/test-utils';
import { describe, expect, it } from 'vitest';
import { useDialogFocus, wrapTarget } from '../src/ui/useDialogFocus.js';
import { mount } from './dom-mount.js';

function Harness() {
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog, open);
  return (
    <div>
      <button id="opener" onClick={() => setOpen(true)}>open</button>
      <button id="behind">behind</button>
      {open && (
        <div ref={dialog} role="dialog" aria-modal="true">
          <button id="first">first</button>
          <a id="middle" href="#x">middle</a>
          <button id="last" onClick={() => setOpen(false)}>close</button>
        </div>
      )}
    </div>
  );
}

const tab = (shiftKey = false) => act(() => void document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', shiftKey, bubbles: true, cancelable: true })));
const byId = (id: string) => document.getElementById(id) as HTMLElement;

describe('dialog focus', () => {
  it('wrapTarget wraps at the ends, pulls focus in from outside, and leaves the middle to the browser', () => {
    const root = document.createElement('div');
    root.innerHTML = '<button id="a">a</button><button disabled>x</button><input id="b"><button id="c">c</button>';
    document.body.append(root);
    const [a, b, c] = ['a', 'b', 'c'].map(byId);
    expect(wrapTarget(root, c!, false)).toBe(a);
    expect(wrapTarget(root, a!, true)).toBe(c);
    expect(wrapTarget(root, b!, false)).toBeNull();
    expect(wrapTarget(root, document.body, false)).toBe(a);
    expect(wrapTarget(root, document.body, true)).toBe(c);
    root.remove();
  });

  it('Tab cycles inside the open dialog and focus returns to the opener when it closes', () => {
    mount(<Harness />);
    byId('opener').focus();
    act(() => byId('opener').click());
    byId('last').focus();
    tab();
    expect(document.activeElement?.id).toBe('first');
    tab(true);
    expect(document.activeElement?.id).toBe('last');
    act(() => byId('last').click());
    expect(document.activeElement?.id).toBe('opener');
    // Closed: Tab is the browser's again.
    byId('behind').focus();
    tab();
    expect(document.activeElement?.id).toBe('behind');
  });
});
