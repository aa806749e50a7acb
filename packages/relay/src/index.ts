export { createRelay, type Relay, type RelayAddress, type RelayStats } from './relay.js';
export {
  DEFAULT_LIMITS,
  DEFAULT_MESSAGE_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_WS_PATH,
  type RelayClock,
  type RelayLimits,
  type RelayOptions,
} from './options.js';
export { RelayServerError, RELAY_SERVER_ERROR_CODES, type RelayServerErrorCode } from './errors.js';
export { jsonLineLogger, silentLogger, type LogFields, type RelayLogger } from './logger.js';
export { createProtocolVerifier, type CertifiedDevice, type RelayVerifier } from './verifier.js';
export { openSqliteStore, migrateSqlite, SqliteRelayStore, SQLITE_FILE_NAME, type SqliteStoreOptions } from './store/sqlite-store.js';
export { SQLITE_MIGRATIONS, LATEST_SCHEMA_VERSION } from './store/sqlite-migrations.js';
export type * from './store/types.js';
export { parseRelayArgs, startRelayFromArgs, RELAY_USAGE, type RunningRelay } from './args.js';
export { createStaticApp, normalizeAppPath, DEFAULT_APP_PATH, MAX_APP_BYTES, APP_CONFIG_FILE, type StaticApp, type StaticAppOptions } from './static-app.js';
export { LocalBus, LocalBusHub } from './bus/local-bus.js';
export { RedisBus, DEFAULT_BUS_PREFIX, type RedisBusOptions } from './bus/redis-bus.js';
export { DEFAULT_BUS_SWEEP_MS, DEFAULT_BUS_SWEEP_MAX_MS } from './bus/cluster-directory.js';
export type { RelayBus, BusHandlers, BusStatus, ClaimOrigin } from './bus/types.js';
export { checkHealth, type HealthReport } from './health.js';
export * from './blobs/index.js';
