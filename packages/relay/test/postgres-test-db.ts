/**
 * Throwaway PostgreSQL databases for tests: created with unique names on the server named by
 * PIGEON_TEST_POSTGRES_URL (default: the local server's `test` database) and dropped afterwards.
 * Tests skip only when the server is unreachable; PIGEON_TEST_POSTGRES=require turns that into a
 * failure (for CI, where the server must be there).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env['PIGEON_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** undefined when the server answers, otherwise why not (the skip message). */
export async function postgresUnreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    const reason = `PostgreSQL unreachable at ${ADMIN_URL.replace(/\/\/[^@/]*@/, '//')}: ${e instanceof Error ? e.message : String(e)}`;
    if (process.env['PIGEON_TEST_POSTGRES'] === 'require') throw new Error(reason);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function databaseUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export class TestDatabases {
  private readonly names: string[] = [];
  private readonly prefix = `pigeon_t${process.pid}_${randomBytes(3).toString('hex')}`;

  /** Creates `count` empty databases and returns their URLs. */
  async create(count = 1): Promise<string[]> {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const urls: string[] = [];
      for (let i = 0; i < count; i++) {
        const name = `${this.prefix}_${this.names.length}`;
        await admin.query(`CREATE DATABASE ${name}`);
        this.names.push(name);
        urls.push(databaseUrl(name));
      }
      return urls;
    } finally {
      await admin.end();
    }
  }

  /** Runs SQL on one of the databases with a short-lived connection. */
  async sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async dropAll(): Promise<void> {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      // FORCE ends connections a failed test may have left open.
      for (const name of this.names.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
