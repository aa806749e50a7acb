/** A RelayStore that times every call into the metrics, and otherwise only delegates. */
import { performance } from 'node:perf_hooks';
import type { RelayStore } from '../store/types.js';
import type { RelayMetrics } from './relay-metrics.js';

type Op = Exclude<keyof RelayStore, 'close' | 'ping' | 'resolvesInCommitOrder' | 'batchStats'>;

export function instrumentStore(store: RelayStore, metrics: RelayMetrics): RelayStore {
  const timed =
    <A extends unknown[], R>(op: Op, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await fn.apply(store, args);
      } catch (e) {
        metrics.storeErrors.inc({ op });
        throw e;
      } finally {
        metrics.storeLatency.observe((performance.now() - started) / 1000, { op });
      }
    };
  return {
    registerDevice: timed('registerDevice', store.registerDevice),
    getDevice: timed('getDevice', store.getDevice),
    accountExists: timed('accountExists', store.accountExists),
    putPreKeys: timed('putPreKeys', store.putPreKeys),
    preKeyCounts: timed('preKeyCounts', store.preKeyCounts),
    takePreKeyBundles: timed('takePreKeyBundles', store.takePreKeyBundles),
    setDeliveryTokens: timed('setDeliveryTokens', store.setDeliveryTokens),
    hasDeliveryToken: timed('hasDeliveryToken', store.hasDeliveryToken),
    enqueue: timed('enqueue', store.enqueue),
    pending: timed('pending', store.pending),
    ack: timed('ack', store.ack),
    sweepExpired: timed('sweepExpired', store.sweepExpired),
    mailboxUsage: timed('mailboxUsage', store.mailboxUsage),
    getDeviceList: timed('getDeviceList', store.getDeviceList),
    putDeviceList: timed('putDeviceList', store.putDeviceList),
    openProvisioning: timed('openProvisioning', store.openProvisioning),
    putProvisioningMessage: timed('putProvisioningMessage', store.putProvisioningMessage),
    takeProvisioningMessage: timed('takeProvisioningMessage', store.takeProvisioningMessage),
    ...(store.ping ? { ping: () => store.ping!() } : {}),
    ...(store.batchStats ? { batchStats: () => store.batchStats!() } : {}),
    ...(store.resolvesInCommitOrder === true ? { resolvesInCommitOrder: true } : {}),
    close: () => store.close(),
  };
}
