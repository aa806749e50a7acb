/**
 * Destination and name matching shared by the rules.
 *
 * Destinations are written "ip" (any port) or "ip:port" / "[v6]:port". Names match exactly
 * ("relay.example"), or by "*.example.com" (any subdomain, not the apex; as the 2024 throttling of
 * *.googlevideo.com), or by RegExp / predicate. Comparison is case-insensitive, trailing dot ignored.
 */
import { isIP } from 'node:net';
import { LabError } from './errors.js';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export type DestinationPattern = string | ((endpoint: Endpoint) => boolean);
export type NamePattern = string | RegExp | ((name: string) => boolean);

interface ParsedDestination {
  readonly ip: string;
  readonly port: number | undefined;
}

export function parseDestination(text: string): ParsedDestination {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6 !== null && v6[1] !== undefined && isIP(v6[1]) === 6) return { ip: v6[1].toLowerCase(), port: parsePort(v6[2], text) };
  if (isIP(text) !== 0) return { ip: text.toLowerCase(), port: undefined };
  const v4 = /^([^:]+):(\d+)$/.exec(text);
  if (v4 !== null && v4[1] !== undefined && isIP(v4[1]) === 4) return { ip: v4[1], port: parsePort(v4[2], text) };
  throw new LabError('BAD_OPTION', `not a destination (ip or ip:port): ${text}`);
}

function parsePort(text: string | undefined, whole: string): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LabError('BAD_OPTION', `bad port in ${whole}`);
  return port;
}

export function formatEndpoint(e: Endpoint): string {
  return isIP(e.ip) === 6 ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** Compiles destination patterns once (so a bad one fails when the rule is built, not mid-test). */
export function destinationMatcher(patterns: readonly DestinationPattern[]): (endpoint: Endpoint) => boolean {
  const compiled = patterns.map((p) => {
    if (typeof p === 'function') return p;
    const d = parseDestination(p);
    return (e: Endpoint) => e.ip.toLowerCase() === d.ip && (d.port === undefined || d.port === e.port);
  });
  return (e) => compiled.some((m) => m(e));
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export function nameMatcher(patterns: readonly NamePattern[]): (name: string) => boolean {
  const compiled = patterns.map((p): ((n: string) => boolean) => {
    if (typeof p === 'function') return p;
    if (p instanceof RegExp) return (n) => p.test(n);
    const want = normalizeName(p);
    if (want.length === 0) throw new LabError('BAD_OPTION', 'empty name pattern');
    if (want.startsWith('*.')) {
      const suffix = want.slice(1); // ".example.com"
      return (n) => n.endsWith(suffix) && n.length > suffix.length;
    }
    return (n) => n === want;
  });
  return (name) => {
    const n = normalizeName(name);
    return compiled.some((m) => m(n));
  };
}
