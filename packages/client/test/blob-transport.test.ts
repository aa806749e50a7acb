/** What both blob clients share (src/attachments/blob-transport.ts): the relay's clock on a refused create. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobError } from '@pigeon/api';
import { refuseWithRelayDate, relayDateOf } from '../src/attachments/blob-transport.js';

const refused = (err: Error) => async (): Promise<never> => {
  throw err;
};

describe('refuseWithRelayDate', () => {
  it('stamps a BlobError with the Date header, or null when there is none or it does not parse', async () => {
    const date = 'Sun, 29 Nov 2026 03:00:00 GMT';
    await assert.rejects(refuseWithRelayDate(date, refused(new BlobError('UNAUTHORIZED', 'no'))), (e: unknown) => e instanceof BlobError && e.code === 'UNAUTHORIZED' && relayDateOf(e) === Date.parse(date));
    for (const header of [undefined, null, '', 'yesterday-ish']) {
      await assert.rejects(refuseWithRelayDate(header, refused(new BlobError('UNAUTHORIZED', 'no'))), (e: unknown) => e instanceof BlobError && relayDateOf(e) === null && 'relayDate' in e);
    }
  });

  it('passes any other error through untouched', async () => {
    const other = new TypeError('socket hang up');
    await assert.rejects(refuseWithRelayDate('Sun, 29 Nov 2026 03:00:00 GMT', refused(other)), (e: unknown) => e === other && !('relayDate' in e));
  });
});
