/**
 * The routes a client knows and which one worked last, kept in the client store's state table
 * through a two-method interface (the SDK's store is synchronous; any key-value store fits).
 * Keys: `transport.routes` (JSON array of RouteRecord), `transport.last_good` (JSON object:
 * relay URL -> route label). Damaged entries are skipped, never fatal.
 */
import { TransportError } from './errors.js';
import { routeFromRecord, routeLabel, routeToRecord } from './routes.js';
import type { Route } from './routes.js';

export interface RouteMemory {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export const ROUTES_KEY = 'transport.routes';
export const LAST_GOOD_KEY = 'transport.last_good';
/** Routes kept at most (oldest dropped): a QR code collection must not grow without bound. */
export const MAX_STORED_ROUTES = 64;

/** In-memory RouteMemory (tests, or a client without a store). */
export function memoryRouteMemory(): RouteMemory {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v) };
}

export class RouteBook {
  constructor(private readonly memory: RouteMemory) {}

  routes(): Route[] {
    const raw = this.memory.get(ROUTES_KEY);
    if (raw === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    const out: Route[] = [];
    for (const rec of parsed) {
      try {
        out.push(routeFromRecord(rec));
      } catch {
        // skip a damaged entry
      }
    }
    return out;
  }

  /** Adds routes (deduplicated by label); returns the ones that were new. */
  add(routes: readonly Route[]): Route[] {
    const current = this.routes();
    const labels = new Set(current.map(routeLabel));
    const added = routes.filter((r) => {
      const l = routeLabel(r);
      if (labels.has(l)) return false;
      labels.add(l);
      return true;
    });
    if (added.length > 0) this.save([...current, ...added].slice(-MAX_STORED_ROUTES));
    return added;
  }

  /** Removes routes whose label contains `match`; returns how many. */
  remove(match: string): number {
    if (match === '') throw new TransportError('BAD_ROUTE', 'empty route selector');
    const current = this.routes();
    const kept = current.filter((r) => !routeLabel(r).includes(match));
    if (kept.length !== current.length) this.save(kept);
    return current.length - kept.length;
  }

  private save(routes: readonly Route[]): void {
    this.memory.set(ROUTES_KEY, JSON.stringify(routes.map(routeToRecord)));
  }

  lastGood(relayUrl: string): string | undefined {
    return this.lastGoodMap()[relayUrl];
  }

  setLastGood(relayUrl: string, label: string): void {
    const map = this.lastGoodMap();
    if (map[relayUrl] === label) return;
    map[relayUrl] = label;
    this.memory.set(LAST_GOOD_KEY, JSON.stringify(map));
  }

  private lastGoodMap(): Record<string, string> {
    try {
      const v = JSON.parse(this.memory.get(LAST_GOOD_KEY) ?? '{}') as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
    } catch {
      return {};
    }
  }
}
