/**
 * Just enough of node:test for the client's store conformance suite to run in a browser page
 * (e2e/idb-conformance.test.mjs bundles it with this file aliased as `node:test`).
 */
type Fn = () => unknown;

export interface Case {
  readonly name: string;
  readonly fn: Fn;
}

const cases: Case[] = [];
const prefix: string[] = [];

export function describe(name: string, fn: () => void): void {
  prefix.push(name);
  try {
    fn();
  } finally {
    prefix.pop();
  }
}

export function it(name: string, fn: Fn): void {
  cases.push({ name: [...prefix, name].join(' > '), fn });
}

const unsupported = () => {
  throw new Error('hooks are not supported by the browser test shim');
};
export const before = unsupported;
export const after = unsupported;
export const beforeEach = unsupported;
export const afterEach = unsupported;

export function registered(): readonly Case[] {
  return cases;
}
