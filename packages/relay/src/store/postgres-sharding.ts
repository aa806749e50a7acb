/**
 * Spreading the PostgreSQL store over several databases (shards).
 *
 * Routing is rendezvous (highest-random-weight) hashing: a key goes to the shard whose
 * SHA-256(shard name ‖ 0x00 ‖ key) is largest. Every node computes the same answer without
 * coordination, and adding a shard moves only the keys that the new shard wins (about 1/n of
 * them), which a ring with virtual nodes also gives but with more state to get wrong.
 *
 * Keys: account data (accounts, devices, prekeys, delivery tokens) routes by account id; mailboxes
 * and the device directory route by device id.
 *
 * Shards are identified by name, not by position in the list, so reordering the list changes
 * nothing. The default name is the connection string without credentials or parameters
 * (host:port/database); give an explicit name (`?shard=NAME` on the URL, or `{ url, name }`) when
 * a shard may move to another host.
 */
import { createHash } from 'node:crypto';
import { RelayServerError } from '../errors.js';

export interface PostgresShardSpec {
  /** A libpq-style URL: postgres://user@host:port/database?... */
  readonly url: string;
  /** Stable identity used for routing; defaults to host:port/database taken from the URL. */
  readonly name?: string;
}

export interface ResolvedShard {
  readonly url: string;
  readonly name: string;
}

/** A list longer than this is a configuration mistake, not a deployment (each shard is a pool). */
export const MAX_SHARDS = 256;
/** Query parameter naming a shard inside a URL; removed before the URL reaches the driver. */
export const SHARD_NAME_PARAM = 'shard';

const URL_SCHEME = /^postgres(?:ql)?:\/\//i;
// A comma only separates shards when the next one starts with a scheme: a comma inside a
// percent-encoded password or a query value then stays where it is.
const LIST_SEPARATOR = /\s*,\s*(?=postgres(?:ql)?:\/\/)/i;

/** Parses `postgres://a/db1,postgres://b/db2` or an array of URLs / specs into named shards. */
export function parseShardList(input: string | readonly (string | PostgresShardSpec)[]): ResolvedShard[] {
  const specs: PostgresShardSpec[] =
    typeof input === 'string'
      ? input
          .trim()
          .split(LIST_SEPARATOR)
          .filter((s) => s.length > 0)
          .map((url) => ({ url }))
      : input.map((s) => (typeof s === 'string' ? { url: s } : s));
  if (specs.length === 0) throw new RelayServerError('BAD_OPTION', 'the PostgreSQL store needs at least one connection string');
  if (specs.length > MAX_SHARDS) throw new RelayServerError('BAD_OPTION', `at most ${MAX_SHARDS} PostgreSQL shards`);
  const shards = specs.map(resolveShard);
  const seen = new Set<string>();
  for (const s of shards) {
    if (seen.has(s.name)) throw new RelayServerError('BAD_OPTION', `two PostgreSQL shards are named ${s.name}`);
    seen.add(s.name);
  }
  return shards;
}

function resolveShard(spec: PostgresShardSpec): ResolvedShard {
  if (typeof spec.url !== 'string' || !URL_SCHEME.test(spec.url.trim())) {
    throw new RelayServerError('BAD_OPTION', 'a PostgreSQL store URL must start with postgres:// or postgresql://');
  }
  const { url, paramName } = takeShardParam(spec.url.trim());
  const name = spec.name ?? paramName ?? defaultShardName(url);
  if (name.length === 0 || name.length > 200) throw new RelayServerError('BAD_OPTION', 'a PostgreSQL shard name must have 1 to 200 characters');
  return { url, name };
}

/** Removes `shard=NAME` from the query string (the driver would pass it on to the server). */
function takeShardParam(url: string): { url: string; paramName: string | undefined } {
  const q = url.indexOf('?');
  if (q < 0) return { url, paramName: undefined };
  let paramName: string | undefined;
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      if (key !== SHARD_NAME_PARAM) return true;
      paramName = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
      return false;
    });
  return { url: kept.length === 0 ? url.slice(0, q) : `${url.slice(0, q)}?${kept.join('&')}`, paramName };
}

/** host:port/database from the URL, never the user or password. */
export function defaultShardName(url: string): string {
  const rest = url.replace(URL_SCHEME, '');
  const query = rest.indexOf('?');
  const noQuery = query < 0 ? rest : rest.slice(0, query);
  const at = noQuery.lastIndexOf('@');
  const hostAndPath = at < 0 ? noQuery : noQuery.slice(at + 1);
  const slash = hostAndPath.indexOf('/');
  const host = slash < 0 ? hostAndPath : hostAndPath.slice(0, slash);
  const database = slash < 0 ? '' : hostAndPath.slice(slash + 1);
  const withPort = host.length === 0 ? 'localhost:5432' : /:\d+$/.test(host) ? host : `${host}:5432`;
  return `${withPort}/${database}`;
}

/** Rendezvous hashing over named shards; stateless apart from the names. */
export class ShardRouter {
  private readonly prefixes: readonly Buffer[];

  constructor(readonly names: readonly string[]) {
    if (names.length === 0) throw new RelayServerError('BAD_OPTION', 'no shards');
    this.prefixes = names.map((n) => Buffer.concat([Buffer.from(n, 'utf8'), Buffer.from([0])]));
  }

  get size(): number {
    return this.names.length;
  }

  /** Index (into `names`) of the shard that owns this key. */
  shardOf(key: Uint8Array): number {
    if (this.prefixes.length === 1) return 0;
    let best = 0;
    let bestWeight = -1n;
    this.prefixes.forEach((prefix, i) => {
      const weight = createHash('sha256').update(prefix).update(key).digest().readBigUInt64BE(0);
      if (weight > bestWeight) {
        bestWeight = weight;
        best = i;
      }
    });
    return best;
  }
}

/** The shard list as recorded in each shard: order-independent. */
export function canonicalShardSet(names: readonly string[]): string[] {
  return [...names].sort();
}
