import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRelay, normalizeAppPath, RelayServerError, type Relay } from '../src/index.js';
import { parseRelayArgs } from '../src/args.js';

function get(url: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('relay: serving the web app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-app-'));
  let relay: Relay;
  let base: string;
  before(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    relay = createRelay({ app: { dir, path: '/s3cret-path' }, wsPath: '/ws-x' });
    const address = await relay.start();
    base = `http://127.0.0.1:${address.port}`;
    assert.equal(address.appUrl, `${base}/s3cret-path/`);
  });
  after(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html, assets and a config.json naming the WebSocket path', async () => {
    const index = await get(`${base}/s3cret-path/`);
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /text\/html/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.ok(String(index.headers['content-security-policy']).includes("script-src 'self'"));
    const js = await get(`${base}/s3cret-path/assets/index-abc.js`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.match(String(js.headers['cache-control']), /immutable/);
    const config = await get(`${base}/s3cret-path/config.json`);
    assert.deepEqual(JSON.parse(config.body), { wsPath: '/ws-x' });
  });

  it('CSP: decrypted images may be blob: URLs; scripts, connections and everything else stay same-origin', async () => {
    const index = await get(`${base}/s3cret-path/`);
    const directives = new Map(
      String(index.headers['content-security-policy'])
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values.join(' ')] as const),
    );
    assert.equal(directives.get('img-src'), "'self' data: blob:");
    assert.equal(directives.get('default-src'), "'self'");
    assert.equal(directives.get('script-src'), "'self'");
    assert.equal(directives.get('connect-src'), "'self' ws: wss:");
    assert.equal(directives.get('frame-ancestors'), "'none'");
    assert.equal(directives.has('media-src'), false); // falls back to default-src 'self'
  });

  it('redirects the bare path and keeps the cover site everywhere else', async () => {
    const bare = await get(`${base}/s3cret-path`);
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/s3cret-path/');
    const cover = await get(`${base}/`);
    assert.equal(cover.status, 200);
    assert.ok(!cover.body.includes('<title>app</title>'));
    assert.equal((await get(`${base}/app/`)).status, 404);
    assert.equal((await get(`${base}/s3cret-path/missing.js`)).status, 404);
    assert.equal((await get(`${base}/s3cret-path/..%2F..%2Fetc%2Fpasswd`)).status, 404);
    assert.equal((await get(`${base}/s3cret-path/`, 'POST')).status, 405);
  });

  it('rejects bad app paths and directories without index.html', () => {
    for (const p of ['relative/', '/a/../b/', '/a//b/', '/sp ace/']) {
      assert.throws(() => normalizeAppPath(p), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    }
    assert.equal(normalizeAppPath('/app'), '/app/');
    const empty = mkdtempSync(join(tmpdir(), 'pigeon-empty-'));
    try {
      assert.throws(() => createRelay({ app: { dir: empty } }), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('parses --app-dir and --app-path', () => {
    const { options } = parseRelayArgs(['--app-dir', '/x', '--app-path', '/hidden/']);
    assert.deepEqual(options.app, { dir: '/x', path: '/hidden/' });
    assert.equal(parseRelayArgs([]).options.app, undefined);
  });
});
