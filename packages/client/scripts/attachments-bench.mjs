#!/usr/bin/env node
// Attachment throughput on loopback, as a ratio of a plain file copy over HTTP (issue 6).
//
//   npx tsc -b packages/client && node packages/client/scripts/attachments-bench.mjs [--mb=256] [--repeats=3] [--store=postgres://...]
//
// --store runs the relay on PostgreSQL, which then also keeps the blobs (a cluster's setup);
// default: SQLite + blob files in a temporary data directory.
// Pigeon: PigeonClient.sendAttachment (read, encrypt 64 KiB chunks with AES-256-GCM, pad, hash,
// PATCH 8 MiB segments; the relay fsyncs each segment and checks the SHA-256) and
// downloadAttachment (ranged GETs, per-chunk authentication, whole-blob SHA-256, write, fsync).
// Baseline: a bare node:http server on the same machine; upload = PUT of the file streamed to
// a file on the server (fsync at the end), download = GET streamed from a file into a file
// (fsync at the end). Both use the same source file and disk. Figures are medians of --repeats.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, openSync, rmSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { request, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { PigeonClient } from '@pigeon/client';
import { createRelay } from '@pigeon/relay';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '256' }, repeats: { type: 'string', default: '3' }, store: { type: 'string' } } });
const MB = 1024 * 1024;
const size = Number(values.mb) * MB;
const repeats = Number(values.repeats);
const dir = mkdtempSync(join(tmpdir(), 'pigeon-attach-bench-'));

function writeFile(path, bytes) {
  const fd = openSync(path, 'w');
  for (let at = 0; at < bytes; at += MB) writeSync(fd, randomBytes(Math.min(MB, bytes - at)));
  fsyncSync(fd);
  closeSync(fd);
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function fsyncFile(path) {
  const fd = openSync(path, 'r+');
  fsyncSync(fd);
  closeSync(fd);
}

/** A bare HTTP file server: PUT /up stores the body, GET /file streams the source. */
async function startPlainServer(source) {
  const server = createServer(async (req, res) => {
    if (req.method === 'PUT') {
      const dest = join(dir, 'plain-upload.bin');
      await pipeline(req, createWriteStream(dest));
      await fsyncFile(dest);
      res.writeHead(204).end();
    } else {
      res.writeHead(200, { 'content-length': String(size) });
      await pipeline(createReadStream(source, { highWaterMark: MB }), res);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: server.address().port };
}

function plainUpload(port, source) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/up', method: 'PUT', headers: { 'content-length': String(size) } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    createReadStream(source, { highWaterMark: MB }).pipe(req);
  });
}

function plainDownload(port, dest) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/file' }, (res) => {
      pipeline(res, createWriteStream(dest)).then(() => fsyncFile(dest)).then(resolve, reject);
    })
      .on('error', reject)
      .end();
  });
}

async function main() {
  const source = join(dir, 'source.bin');
  writeFile(source, size);
  const relay = createRelay({ port: 0, dataDir: join(dir, 'relay'), ...(values.store ? { storeUrl: values.store } : {}) });
  const address = await relay.start();
  const alice = await PigeonClient.open({ home: join(dir, 'alice') });
  const bob = await PigeonClient.open({ home: join(dir, 'bob') });
  await alice.init({ relayUrl: address.url, displayName: 'Alice' });
  await bob.init({ relayUrl: address.url, displayName: 'Bob' });
  await alice.connect();
  await bob.connect();
  const { link } = await alice.createInvite();
  await bob.acceptInvite(link);
  await bob.flush();
  await new Promise((r) => setTimeout(r, 300));
  const bobId = alice.contacts()[0].id;
  const plain = await startPlainServer(source);

  const rows = { plainUp: [], plainDown: [], pigeonUp: [], pigeonDown: [] };
  for (let i = 0; i < repeats; i++) {
    rows.plainUp.push(await timed(() => plainUpload(plain.port, source)));
    rows.plainDown.push(await timed(() => plainDownload(plain.port, join(dir, 'plain-download.bin'))));
    let message;
    const arrived = new Promise((resolve) => {
      const off = bob.on('message', (m) => {
        off();
        resolve(m);
      });
    });
    rows.pigeonUp.push(await timed(async () => {
      message = await alice.sendAttachment(bobId, source);
    }));
    const got = await arrived;
    if (got.id !== message.id) throw new Error('unexpected message');
    const dest = join(dir, `pigeon-download-${i}.bin`);
    rows.pigeonDown.push(await timed(() => bob.downloadAttachment(got.id, dest)));
    rmSync(dest);
    await relay.sweepBlobs();
  }
  const check = createHash('sha256');
  await pipeline(createReadStream(source), check);

  const mbps = (s) => (size / MB / s).toFixed(0);
  const up = median(rows.plainUp) / median(rows.pigeonUp);
  const down = median(rows.plainDown) / median(rows.pigeonDown);
  const result = {
    bench: 'attachments',
    blobs: values.store ? 'postgresql' : 'files',
    sizeMB: size / MB,
    repeats,
    node: process.version,
    plainUploadMBps: Number(mbps(median(rows.plainUp))),
    pigeonUploadMBps: Number(mbps(median(rows.pigeonUp))),
    uploadRatio: Number(up.toFixed(2)),
    plainDownloadMBps: Number(mbps(median(rows.plainDown))),
    pigeonDownloadMBps: Number(mbps(median(rows.pigeonDown))),
    downloadRatio: Number(down.toFixed(2)),
    seconds: rows,
  };
  console.log(`attachments on loopback, ${size / MB} MB, median of ${repeats}, blobs in ${result.blobs}`);
  console.log(`  upload:   plain HTTP ${result.plainUploadMBps} MB/s, pigeon ${result.pigeonUploadMBps} MB/s  -> ratio ${result.uploadRatio}`);
  console.log(`  download: plain HTTP ${result.plainDownloadMBps} MB/s, pigeon ${result.pigeonDownloadMBps} MB/s  -> ratio ${result.downloadRatio}`);
  console.log(JSON.stringify(result));
  await alice.close();
  await bob.close();
  plain.server.close();
  await relay.stop();
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
