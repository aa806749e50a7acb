// Lets suites written for node:test (the client's store conformance suite) run under vitest.
export { describe, it, beforeAll as before, afterAll as after, beforeEach, afterEach } from 'vitest';
