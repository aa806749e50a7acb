/**
 * The machine's real PostgreSQL and Redis for cluster tests: availability checks (tests skip
 * when a service is missing, unless PIGEON_TEST_POSTGRES / PIGEON_TEST_REDIS = require), and
 * the restarts the failure tests perform. Every restart helper leaves the service running when
 * it returns or throws; ensureServices() is the last word in a finally block.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ADMIN_URL } from '../postgres-test-db.js';

const run = promisify(execFile);

export const REDIS_URL = process.env['PIGEON_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Exactly how the machine's Redis is started (CI relies on these settings). */
export const REDIS_START_ARGS = [
  '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
  '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log',
];
const SERVICE_WAIT_MS = 60_000;

export async function redisUnreachable(): Promise<string | undefined> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (e) {
    const reason = `Redis unreachable at ${REDIS_URL}: ${e instanceof Error ? e.message : String(e)}`;
    if (process.env['PIGEON_TEST_REDIS'] === 'require') throw new Error(reason);
    return reason;
  } finally {
    r.disconnect();
  }
}

async function redisAnswers(): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { timeout: 5000 });
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = SERVICE_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopRedis(): Promise<void> {
  await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { timeout: 10_000 }).catch(() => undefined);
  await until('Redis to stop', async () => !(await redisAnswers()));
}

export async function startRedis(): Promise<void> {
  if (await redisAnswers()) return;
  await run('redis-server', REDIS_START_ARGS, { timeout: 10_000 });
  await until('Redis to answer', redisAnswers);
}

function postgresVersion(): string {
  const versions = readdirSync('/etc/postgresql');
  if (versions.length !== 1) throw new Error(`expected one PostgreSQL version in /etc/postgresql, found ${versions.join(',')}`);
  return versions[0]!;
}

/** Restarts the machine's PostgreSQL (every connection is cut) and waits until it answers again. */
export async function restartPostgres(): Promise<void> {
  try {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', 'restart'], { timeout: 120_000 });
  } finally {
    await ensurePostgres();
  }
}

export async function ensurePostgres(): Promise<void> {
  if (await postgresAnswers()) return;
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', 'start'], { timeout: 120_000 }).catch(() => undefined);
  await until('PostgreSQL to answer', postgresAnswers);
}

/** For finally blocks: both services are up again when this returns. */
export async function ensureServices(): Promise<void> {
  const failures: unknown[] = [];
  await startRedis().catch((e: unknown) => failures.push(e));
  await ensurePostgres().catch((e: unknown) => failures.push(e));
  if (failures.length > 0) throw failures[0];
}

/**
 * Waits (bounded) until no other test run holds a connection to one of its throwaway databases,
 * so a restart of the shared server does not break a store test running in parallel.
 */
export async function waitForOtherPostgresTests(ownDatabasePrefix: string, timeoutMs = 60_000): Promise<void> {
  const others = async (): Promise<boolean> => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname LIKE 'pigeon\\_t%' AND datname NOT LIKE $1`,
        [`${ownDatabasePrefix}%`],
      );
      return Number(rows[0]?.n ?? 0) === 0;
    } finally {
      await client.end();
    }
  };
  await until('other PostgreSQL tests to finish', others, timeoutMs).catch(() => undefined);
}

/** Held while a test restarts the machine's services, so two test runs never restart them at once. */
export const SERVICE_RESTART_LOCK = '/tmp/pigeon-test-service-restarts.lock';

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(SERVICE_RESTART_LOCK, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the restart lock (waiting for another run that holds it); returns its release. */
export async function lockServiceRestarts(timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(SERVICE_RESTART_LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(SERVICE_RESTART_LOCK, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!lockHolderAlive()) rmSync(SERVICE_RESTART_LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error('another test run holds the service restart lock');
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
}
