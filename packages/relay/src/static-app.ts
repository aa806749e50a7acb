/**
 * Serves the web app (a built static directory, packages/web/dist) under one URL path of the
 * relay, default `/app/`. For censored deployments the path can be a secret one while `/` stays
 * the cover website (website.ts); any other path still gets the cover site's 404.
 * Next to the app, `config.json` tells the app the relay's WebSocket path, so it dials the relay
 * it was served from. Files are read once at start (the app is small) and only files inside the
 * directory can be served.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { RelayServerError } from './errors.js';

export const DEFAULT_APP_PATH = '/app/';
/** A directory bigger than this is not an app build: refuse rather than hold it in memory. */
export const MAX_APP_BYTES = 20 * 1024 * 1024;
export const APP_CONFIG_FILE = 'config.json';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * What the app may load: itself, WebSockets to this origin, QR codes as data: images, and
 * decrypted attachment images as blob: object URLs (the page creates them itself). Blob HTTP
 * (uploads, ranged downloads) is same-origin fetch under 'self': the relay serves the app.
 */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self' ws: wss:; worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface StaticAppOptions {
  /** The built app directory (must contain index.html). */
  readonly dir: string;
  /** URL path prefix, starting and ending with '/'. Default '/app/'. */
  readonly path?: string;
  /** The relay's WebSocket path, published in config.json. */
  readonly wsPath: string;
}

export interface StaticApp {
  /** Answers the request if it is under the app path; false lets the cover site answer. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  readonly path: string;
}

export function normalizeAppPath(path: string): string {
  const p = path.endsWith('/') ? path : `${path}/`;
  if (!/^\/[A-Za-z0-9._~\-/]*\/$/.test(p) || p.includes('//') || p.split('/').some((s) => s === '..' || s === '.')) {
    throw new RelayServerError('BAD_OPTION', 'the app path must be an absolute URL path like /app/');
  }
  return p;
}

function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let total = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        total += st.size;
        if (total > MAX_APP_BYTES) throw new RelayServerError('BAD_OPTION', `the app directory is larger than ${MAX_APP_BYTES} bytes`);
        files.set(relative(dir, p).split(sep).join('/'), readFileSync(p));
      }
    }
  };
  walk(dir);
  return files;
}

export function createStaticApp(options: StaticAppOptions): StaticApp {
  const path = normalizeAppPath(options.path ?? DEFAULT_APP_PATH);
  let files: Map<string, Buffer>;
  try {
    files = readTree(options.dir);
  } catch (cause) {
    if (cause instanceof RelayServerError) throw cause;
    throw new RelayServerError('BAD_OPTION', `cannot read the app directory ${options.dir}`, { cause });
  }
  if (!files.has('index.html')) throw new RelayServerError('BAD_OPTION', `no index.html in the app directory ${options.dir}`);
  files.set(APP_CONFIG_FILE, Buffer.from(JSON.stringify({ wsPath: options.wsPath }), 'utf8'));
  const bare = path.slice(0, -1);

  return {
    path,
    handle(req, res) {
      const url = (req.url ?? '/').split('?')[0]!;
      if (url === bare) {
        res.writeHead(301, { location: path, 'content-length': '0' });
        res.end();
        return true;
      }
      if (!url.startsWith(path)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      let name: string;
      try {
        name = decodeURIComponent(url.slice(path.length));
      } catch {
        return false;
      }
      if (name === '') name = 'index.html';
      // Only names that are in the map are served: no path is ever resolved on disk per request.
      const body = files.get(name);
      if (body === undefined) return false;
      const revalidate = name === 'index.html' || name === 'sw.js' || name === APP_CONFIG_FILE || name.endsWith('.webmanifest');
      res.writeHead(200, {
        'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
        'content-length': String(body.length),
        'cache-control': revalidate ? 'no-cache' : 'public, max-age=31536000, immutable',
        'content-security-policy': APP_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
