/** A RelayStore that times every call into the metrics, and otherwise only delegates. */
import { performance } from 'node:perf_hooks';
import type { RelayStore } from '../store/types.js';
import type { RelayMetrics } from './relay-metrics.js';

type Op = Exclude<keyof RelayStore, 'close' | 'ping' | 'resolvesInCommitOrder' | 'batchStats'>;

export function instrumentStore(store: RelayStore, metrics: RelayMetrics): RelayStore {
  // Every message passes here (enqueue, ack, sometimes pending): one reaction per call, no async
  // wrapper, and the label object made once per operation.
  const timed = <A extends unknown[], R>(op: Op, fn: (...args: A) => Promise<R>) => {
    const labels = { op };
    return (...args: A): Promise<R> => {
      const started = performance.now();
      let result: Promise<R>;
      try {
        result = fn.apply(store, args);
      } catch (e) {
        result = Promise.reject(e);
      }
      return result.then(
        (value) => {
          metrics.storeLatency.observe((performance.now() - started) / 1000, labels);
          return value;
        },
        (e: unknown) => {
          metrics.storeErrors.inc(labels);
          metrics.storeLatency.observe((performance.now() - started) / 1000, labels);
          throw e;
        },
      );
    };
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
    ...(store.mailboxesWithMail ? { mailboxesWithMail: timed('mailboxesWithMail', store.mailboxesWithMail) } : {}),
    ...(store.ping ? { ping: () => store.ping!() } : {}),
    ...(store.batchStats ? { batchStats: () => store.batchStats!() } : {}),
    ...(store.resolvesInCommitOrder === true ? { resolvesInCommitOrder: true } : {}),
    close: () => store.close(),
  };
}
