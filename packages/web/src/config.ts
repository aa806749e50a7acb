/**
 * Where the relay is. The relay that serves the app also serves `config.json` next to it with its
 * WebSocket path, so the app dials the relay it came from (same origin) by default. A `relay`
 * query parameter overrides it (development, or an app copy served from elsewhere).
 */
export interface AppConfig {
  readonly relayUrl: string;
}

export const CONFIG_FILE = 'config.json';
export const DEFAULT_WS_PATH = '/pigeon';

export function relayUrlFor(location: { protocol: string; host: string }, wsPath: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const path = wsPath.startsWith('/') ? wsPath : `/${wsPath}`;
  return `${scheme}//${location.host}${path}`;
}

export function parseConfig(json: unknown): { wsPath: string } {
  if (typeof json === 'object' && json !== null) {
    const wsPath = (json as { wsPath?: unknown }).wsPath;
    if (typeof wsPath === 'string' && /^\/[A-Za-z0-9._~\-/]*$/.test(wsPath)) return { wsPath };
  }
  return { wsPath: DEFAULT_WS_PATH };
}

export async function loadConfig(): Promise<AppConfig> {
  const override = new URLSearchParams(location.search).get('relay');
  if (override) return { relayUrl: override };
  let wsPath = DEFAULT_WS_PATH;
  try {
    const res = await fetch(CONFIG_FILE, { cache: 'no-cache' });
    if (res.ok) wsPath = parseConfig(await res.json()).wsPath;
  } catch {
    // offline first start: the service worker's copy or the default path
  }
  return { relayUrl: relayUrlFor(location, wsPath) };
}
