#!/usr/bin/env node
// Runs every test: the compiled node:test files (packages/*/dist/test/**/*.test.js), then the web
// app's vitest unit tests and its Chromium end-to-end tests. Ends with one summary line
// "total: N passed, N failed, N skipped" and exits non-zero if anything failed.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const reports = mkdtempSync(join(tmpdir(), 'pigeon-test-report-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let status = 0;

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** Runs node's test runner with the spec reporter on the terminal and TAP into a file we count. */
function runNodeTests(label, args, cwd) {
  const tap = join(reports, `${label}.tap`);
  const result = spawnSync(
    process.execPath,
    ['--test', ...args.options, '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...args.files],
    { stdio: 'inherit', cwd },
  );
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (key) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  totals.skipped += count('skipped') + count('todo');
  if ((result.status ?? 1) !== 0) status = 1;
}

const matches = (path) => filters.length === 0 || filters.some((s) => path.includes(s));

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const testDir = join(root, 'packages', pkg, 'dist', 'test');
  if (existsSync(testDir)) walk(testDir, files);
}
// Tests that restart the machine's shared PostgreSQL/Redis run alone, after everything else, so
// they never pull a service away from a test running beside them.
const SERVICE_RESTART_TESTS = ['cluster-failures.test.js'];
const isServiceRestart = (f) => SERVICE_RESTART_TESTS.some((name) => f.endsWith(name));
const selectedAll = files.sort().filter(matches);
const selected = selectedAll.filter((f) => !isServiceRestart(f));
const serial = selectedAll.filter(isServiceRestart);
const wantWeb = existsSync(join(root, 'packages', 'web')) && (filters.length === 0 || filters.some((s) => 'packages/web'.includes(s)));
if (selectedAll.length === 0 && !wantWeb) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
if (selected.length > 0) runNodeTests('packages', { options: ['--test-concurrency=2'], files: selected }, root);
if (serial.length > 0) runNodeTests('service-restarts', { options: ['--test-concurrency=1'], files: serial }, root);

// The web app is bundled by Vite, not compiled by tsc -b: unit tests under vitest, end-to-end
// tests (plain .mjs driving real Chromium) under node:test.
if (wantWeb) {
  const web = join(root, 'packages', 'web');
  const json = join(reports, 'vitest.json');
  const unit = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`], { stdio: 'inherit', cwd: web });
  if ((unit.status ?? 1) !== 0) status = 1;
  if (existsSync(json)) {
    const r = JSON.parse(readFileSync(json, 'utf8'));
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += r.numFailedTests ?? 0;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } else {
    totals.failed += 1;
  }
  runNodeTests('web-e2e', { options: ['--test-concurrency=1'], files: ['e2e/'] }, web);
}

rmSync(reports, { recursive: true, force: true });
if (status !== 0 && totals.failed === 0) totals.failed = 1; // a runner crashed before reporting
console.log(`\ntotal: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(status);
