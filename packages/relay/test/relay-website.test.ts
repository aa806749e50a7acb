import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestRelay, type TestRelay } from './helpers/harness.js';

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

/** A raw WebSocket upgrade request, returning the first response line and the rest. */
function rawUpgrade(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c) => {
      data += c;
      // A successful upgrade keeps the socket open: the status line is all we need.
      if (data.startsWith('HTTP/1.1 101') && data.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('relay: cover website', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.relay.stop());

  it('GET / is an ordinary HTML page that does not name the software', async () => {
    const res = await get(relay.httpUrl);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /<html/);
    assert.doesNotMatch(res.body, /pigeon|relay|websocket/i);
    assert.equal(res.headers['server'], undefined);
    assert.equal(res.headers['x-powered-by'], undefined);
    const head = await get(relay.httpUrl, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('unknown paths, the WebSocket path without an upgrade, and other methods get ordinary errors', async () => {
    for (const path of ['nothing-here', 'pigeon', 'admin', 'index.php?x=1']) {
      const res = await get(relay.httpUrl + path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /pigeon|relay|websocket/i);
    }
    assert.equal((await get(relay.httpUrl, 'POST')).status, 405);
    assert.equal((await get(relay.httpUrl + 'robots.txt')).status, 200);
  });

  it('WebSocket upgrades anywhere but the WebSocket path get the same 404 page', async () => {
    const plain = await get(relay.httpUrl + 'somewhere');
    for (const path of ['/', '/somewhere', '/pigeon/', '/pigeonx']) {
      const response = await rawUpgrade(relay.port, path);
      assert.match(response, /^HTTP\/1\.1 404 /, path);
      assert.ok(response.endsWith(plain.body), path);
    }
    const ours = await rawUpgrade(relay.port, '/pigeon');
    assert.match(ours, /^HTTP\/1\.1 101 /);
  });
});
