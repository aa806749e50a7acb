#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const testDir = join(root, 'packages', pkg, 'dist', 'test');
  if (existsSync(testDir)) walk(testDir, files);
}
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (selected.length === 0 && !filters.some((s) => 'packages/web'.includes(s))) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
let status = 0;
if (selected.length > 0) {
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=spec', ...selected],
    { stdio: 'inherit', cwd: root },
  );
  status = result.status ?? 1;
}

// The web app (packages/web) is not compiled by tsc -b: its unit tests run under vitest and its
// end-to-end tests (plain .mjs, real Chromium) under node:test. Run with no filter or a "web" filter.
const web = join(root, 'packages', 'web');
if (existsSync(web) && (filters.length === 0 || filters.some((s) => 'packages/web'.includes(s)))) {
  const unit = spawnSync('npx', ['vitest', 'run'], { stdio: 'inherit', cwd: web });
  const e2e = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', 'e2e/'], { stdio: 'inherit', cwd: web });
  if (status === 0) status = (unit.status ?? 1) || (e2e.status ?? 1);
}
process.exit(status);
