/**
 * Builds the `ClientInternals` (internals.ts) that feature modules (groups/, devices/,
 * message-life/) get: the part of the client core they may use.
 */
import type { ClientInternals } from '../internals.js';
import { ensureContact } from './contacts.js';
import type { ClientCore } from './context.js';
import { sendContent } from './outbox.js';

export function internalsOf(core: ClientCore): ClientInternals {
  return {
    store: core.store,
    crypto: core.crypto,
    now: () => core.now(),
    log: core.log,
    serial: (task) => core.serial.run(async () => {
      core.open();
      return task();
    }),
    keys: () => {
      const k = core.keys();
      return { account: k.hasAccountSecret ? k.account : null, accountKey: k.account.signing.publicKey, device: k.device, profile: k.profile };
    },
    isListed: (accountId, certificate) => core.devices.isListed(accountId, certificate),
    sendContent: (targets, content, messageId, commit) => sendContent(core, targets, content, messageId, commit),
    ensureContact: (card) => ensureContact(core, card),
    ownCard: () => {
      const k = core.keys();
      return { accountKey: k.account.signing.publicKey, name: k.identity.displayName, relayUrl: k.identity.relayUrl, deliveryToken: k.identity.deliveryToken };
    },
    countOutbox: (messageId) => core.store.countOutbox(messageId),
    onSettled: (fn) => {
      core.settledListeners.push(fn);
    },
    receiptSettings: () => core.receiptSettings(),
  };
}
