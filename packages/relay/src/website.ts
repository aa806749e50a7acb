/**
 * The cover website (DESIGN.md "Looks like a website"): anyone probing the address without the
 * WebSocket path sees an ordinary small personal site and ordinary 404s, including for
 * WebSocket upgrades to any other path. Nothing here names the software.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export const DEFAULT_INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Field notes</title>
<style>
body { max-width: 40rem; margin: 3rem auto; padding: 0 1rem; font: 17px/1.6 Georgia, serif; color: #222; background: #fdfcf8; }
h1 { font-weight: normal; margin-bottom: 0; }
.sub { color: #777; margin-top: .2rem; }
article { margin: 2.2rem 0; }
time { color: #999; font-size: .9rem; }
a { color: #2a5d8f; }
footer { margin-top: 3rem; color: #999; font-size: .85rem; }
</style>
</head>
<body>
<header>
<h1>Field notes</h1>
<p class="sub">Walks, weather and a few photographs.</p>
</header>
<article>
<h2>First frost on the allotment</h2>
<time datetime="2024-11-17">17 November 2024</time>
<p>The kale survived, the last courgettes did not. Covered the garlic with straw and
started a list of seeds to order before spring. The robin that follows the spade is back.</p>
</article>
<article>
<h2>Along the old railway line</h2>
<time datetime="2024-10-05">5 October 2024</time>
<p>Eleven kilometres from the station to the viaduct and back through the beech wood.
Mostly dry underfoot; the blackberries are finished but the rowan is in full colour.</p>
</article>
<article>
<h2>Rain gauge, September</h2>
<time datetime="2024-09-30">30 September 2024</time>
<p>92 mm this month, twice August's total. Most of it fell in three days.
The water butt overflowed twice.</p>
</article>
<footer>Written by hand, updated when it rains.</footer>
</body>
</html>
`;

export const DEFAULT_NOT_FOUND_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Not found</title>
<style>body { max-width: 40rem; margin: 3rem auto; padding: 0 1rem; font: 17px/1.6 Georgia, serif; color: #222; background: #fdfcf8; }</style>
</head>
<body>
<h1>Not found</h1>
<p>There is nothing at this address. <a href="/">Back to the notes</a>.</p>
</body>
</html>
`;

const ROBOTS_TXT = 'User-agent: *\nAllow: /\n';

export interface Website {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Answers an upgrade request that is not ours exactly like a GET of an unknown page. */
  rejectUpgrade(socket: Duplex): void;
}

export function createWebsite(indexHtml = DEFAULT_INDEX_HTML, notFoundHtml = DEFAULT_NOT_FOUND_HTML): Website {
  const index = Buffer.from(indexHtml, 'utf8');
  const notFound = Buffer.from(notFoundHtml, 'utf8');
  const robots = Buffer.from(ROBOTS_TXT, 'utf8');
  const lastModified = 'Sun, 17 Nov 2024 09:12:44 GMT';

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': String(body.length),
      'cache-control': status === 200 ? 'public, max-age=3600' : 'no-cache',
      ...(status === 200 ? { 'last-modified': lastModified } : {}),
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(req, res, 405, 'text/html; charset=utf-8', notFound, { allow: 'GET, HEAD' });
        return;
      }
      if (path === '/' || path === '/index.html') send(req, res, 200, 'text/html; charset=utf-8', index);
      else if (path === '/robots.txt') send(req, res, 200, 'text/plain; charset=utf-8', robots);
      else send(req, res, 404, 'text/html; charset=utf-8', notFound);
    },
    rejectUpgrade(socket) {
      const head =
        'HTTP/1.1 404 Not Found\r\n' +
        'content-type: text/html; charset=utf-8\r\n' +
        `content-length: ${notFound.length}\r\n` +
        'cache-control: no-cache\r\n' +
        `date: ${new Date().toUTCString()}\r\n` +
        'connection: close\r\n\r\n';
      socket.on('error', () => {});
      socket.end(Buffer.concat([Buffer.from(head, 'latin1'), notFound]));
    },
  };
}
