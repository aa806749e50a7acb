/**
 * Emits sw.js: a service worker that precaches the app shell (index.html, the hashed bundles,
 * manifest and icons) so the app opens offline. The file list and a version derived from it are
 * injected at build time; a new build gets a new cache and the old one is deleted on activate.
 */
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

export function serviceWorkerPlugin(): Plugin {
  return {
    name: 'pigeon-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map')).sort();
      const shell = ['./', ...files.map((f) => `./${f}`)];
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: serviceWorkerSource(version, shell) });
    },
  };
}

function serviceWorkerSource(version: string, shell: string[]): string {
  return `// Pigeon app shell cache (generated at build time).
const CACHE = 'pigeon-shell-${version}';
const SHELL = ${JSON.stringify(shell)};
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('pigeon-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});
self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(new URL(self.registration.scope).pathname)) return;
  // config.json says where the relay's WebSocket is: network first, cached copy when offline.
  if (url.pathname.endsWith('/config.json')) {
    event.respondWith(
      fetch(req).then((res) => {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(req, copy));
        return res;
      }).catch(() => caches.match(req).then((r) => r || Response.error())),
    );
    return;
  }
  // The shell: cache first; navigations (any #fragment, ?query) get index.html.
  const key = req.mode === 'navigate' ? './' : req;
  event.respondWith(caches.match(key, { ignoreSearch: req.mode === 'navigate' }).then((hit) => hit || fetch(req)));
});
`;
}
