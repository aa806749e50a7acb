/**
 * Renders a component into a fresh element of the happy-dom document; every element mounted in a
 * test is unmounted and removed after it (so effects clean up and tests do not see each other's DOM).
 */
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach } from 'vitest';

let roots: HTMLElement[] = [];

export function mount(node: preact.ComponentChild): HTMLElement {
  const root = document.createElement('div');
  document.body.append(root);
  roots.push(root);
  act(() => render(node, root));
  return root;
}

afterEach(() => {
  for (const root of roots) {
    render(null, root);
    root.remove();
  }
  roots = [];
});
