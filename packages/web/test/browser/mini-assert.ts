/**
 * Just enough of node:assert/strict for the store conformance suite in a browser page: strict
 * equality, structural deep equality (typed arrays by content, prototypes must match), throws.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

function fail(message: string | undefined, fallback: string): never {
  throw new AssertionError(message ?? fallback);
}

function deepEqualValues(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqualValues((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const show = (v: unknown) => {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? `bytes(${[...x].join(',')})` : x));
  } catch {
    return String(v);
  }
};

const assert = {
  ok(value: unknown, message?: string): void {
    if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
  },
  equal(actual: unknown, expected: unknown, message?: string): void {
    if (!Object.is(actual, expected)) fail(message, `${show(actual)} !== ${show(expected)}`);
  },
  notEqual(actual: unknown, expected: unknown, message?: string): void {
    if (Object.is(actual, expected)) fail(message, `${show(actual)} === ${show(expected)}`);
  },
  deepEqual(actual: unknown, expected: unknown, message?: string): void {
    if (!deepEqualValues(actual, expected)) fail(message, `not deep-equal:\n${show(actual)}\n${show(expected)}`);
  },
  throws(fn: () => unknown, _expected?: unknown, message?: string): void {
    try {
      fn();
    } catch {
      return;
    }
    fail(typeof _expected === 'string' ? _expected : message, 'expected the function to throw');
  },
};

export default assert;
