/**
 * What everyone without the bridge's link sees: a small, ordinary website (GET / a page, other
 * paths an ordinary 404, other methods 405), also in answer to WebSocket upgrades and tunnel
 * posts that fail authentication, including replayed and altered ones (issue 3, active probing).
 * Deliberately different from the relay's cover site so bridges and relays do not share a page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export const BRIDGE_INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ceramics studio</title>
<style>
body { max-width: 44rem; margin: 2.5rem auto; padding: 0 1rem; font: 16px/1.6 system-ui, sans-serif; color: #2b2b2b; }
h1 { letter-spacing: .04em; font-weight: 600; }
.muted { color: #777; }
li { margin: .3rem 0; }
</style>
</head>
<body>
<h1>Ceramics studio</h1>
<p class="muted">Wheel-thrown stoneware, small batches, fired twice a month.</p>
<h2>Classes</h2>
<ul>
<li>Beginners: Tuesday evenings, six weeks</li>
<li>Open studio: Saturday mornings</li>
<li>Glazing workshop: first Sunday of the month</li>
</ul>
<h2>Next kiln opening</h2>
<p>Pieces from the last firing can be collected from the shelf by the door.</p>
<p class="muted">Visits by appointment.</p>
</body>
</html>
`;

export const BRIDGE_NOT_FOUND_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>The page you asked for is not here.</p></body></html>
`;

function headers(body: string, extra: Record<string, string> = {}): Record<string, string | number> {
  return { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'max-age=300', ...extra };
}

export function serveWebsite(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const body = BRIDGE_NOT_FOUND_HTML;
    res.writeHead(405, headers(body, { Allow: 'GET, HEAD' }));
    res.end(req.method === 'HEAD' ? undefined : body);
    req.resume();
    return;
  }
  const ok = path === '/' || path === '/index.html';
  const body = ok ? BRIDGE_INDEX_HTML : BRIDGE_NOT_FOUND_HTML;
  res.writeHead(ok ? 200 : 404, headers(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The answer to an upgrade we will not accept: the same 404 a plain GET of that path gets. */
export function refuseUpgrade(socket: Duplex): void {
  const body = BRIDGE_NOT_FOUND_HTML;
  const head =
    `HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nConnection: close\r\n\r\n`;
  socket.end(head + body);
}
