// The ClientStore conformance suite against the IndexedDB store in real Chromium (the unit tests
// run it on fake-indexeddb). test/browser/ is bundled by Vite with small node:test/node:assert
// shims, served from 127.0.0.1 (a secure context, so WebCrypto and the key vault work), and run.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'vite';
import { launch, newUser, WAIT_MS } from './harness.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const pageDir = join(here, '..', 'test', 'browser');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

function serve(dir) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(dir, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'text/html' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('IndexedDB store conformance in Chromium', () => {
  let outDir, server, chrome;
  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'pigeon-idb-conformance-'));
    await build({
      configFile: false,
      root: pageDir,
      base: './',
      logLevel: 'warn',
      resolve: {
        alias: {
          'node:test': join(pageDir, 'mini-test.ts'),
          'node:assert/strict': join(pageDir, 'mini-assert.ts'),
        },
      },
      build: { outDir, emptyOutDir: true, target: 'es2022', minify: false },
    });
    server = await serve(outDir);
    chrome = await launch();
  });
  after(async () => {
    await chrome?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('passes every case of the suite and a reopen round trip', async () => {
    const { page, context } = await newUser(chrome.browser);
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.__conformance !== undefined, null, { timeout: WAIT_MS });
    const result = await page.evaluate(() => window.__conformance);
    await context.close();
    assert.deepEqual(result.failed, []);
    // 15 conformance cases today plus the shim self-check and the round trip; fewer means the suite did not register.
    assert.ok(result.passed.length >= 17, JSON.stringify(result.passed));
    assert.ok(result.passed.some((n) => n.includes('safety events')));
    assert.ok(result.passed.some((n) => n.includes('GroupStore conformance')), 'the group store suite ran too');
  });
});
