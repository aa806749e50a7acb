// E2E harness: an in-process relay serving the built app, real Chromium via playwright-core,
// screenshots into test-artifacts/web/. Chromium is Debian's (/usr/bin/chromium, installed by .ci/run).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PigeonClient, openSqliteStore } from '@pigeon/client';
import { defaultBackend } from '@pigeon/crypto';
import { createDeviceKeys, decodeAccountKeys, encodeDeviceKeys } from '@pigeon/protocol';
import { createRelay } from '@pigeon/relay';

const here = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = join(here, '..', '..', '..');
export const APP_DIR = join(here, '..', 'dist');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'web');
export const CHROMIUM = process.env.PIGEON_CHROMIUM ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const WAIT_MS = 30_000;

/** A relay serving the app at `appPath`; `options` go to createRelay (e.g. `dataDir` to keep blobs on disk). */
export async function startRelay(appPath = '/app/', options = {}) {
  const relay = createRelay({ app: { dir: APP_DIR, path: appPath }, port: 0, ...options });
  const address = await relay.start();
  return { relay, address };
}

/** `extraArgs`: more Chromium switches for this launch (e.g. a fake camera for QR scanning). */
export async function launch(extraArgs = []) {
  // playwright gives every launch a fresh temporary profile (its own --user-data-dir).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
    headless: true,
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export async function newUser(browser, { locale = 'en-US', viewport = DESKTOP, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ locale, viewport, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  return { context, page };
}

export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Opens the app and creates an identity. */
export async function createIdentity(page, appUrl, name) {
  await page.goto(appUrl);
  await page.getByLabel(/Your name|Ваше имя/).fill(name);
  await page.getByRole('button', { name: /Create my identity|Создать профиль/ }).click();
  await page.locator('[data-testid=connection][data-state=connected]').waitFor();
}

export async function inviteLink(page) {
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  const box = page.getByTestId('invite-link');
  await box.waitFor();
  return box.inputValue();
}

/**
 * `inviter` invites `invitee` (English UI); the invitee adds them and sends `firstText`, and the
 * inviter opens the chat once it arrived: both are then each other's contacts with a session.
 */
export async function befriend(inviter, inviterName, invitee, inviteeName, firstText) {
  const link = await inviteLink(inviter.page);
  await invitee.page.goto(link);
  await invitee.page.getByRole('button', { name: 'Add', exact: true }).click();
  await invitee.page.locator('#chat-title', { hasText: inviterName }).waitFor();
  await sendText(invitee.page, firstText);
  await openChat(inviter.page, inviteeName);
  await messageLocator(inviter.page, firstText).waitFor();
}

export async function openChat(page, name) {
  await page.getByTestId('conversation').filter({ hasText: name }).click();
  await page.locator('#chat-title', { hasText: name }).waitFor();
}

export async function sendText(page, text) {
  await page.locator('#composer-input').fill(text);
  await page.locator('#composer-input').press('Enter');
}

export function messageLocator(page, text) {
  return page.getByTestId('message').filter({ hasText: text });
}

/** Runs the CLI (packages/cli/bin/pigeon.js) with a profile directory; resolves its stdout. */
export function cli(profile, args, { timeoutMs = WAIT_MS } = {}) {
  const bin = join(ROOT, 'packages', 'cli', 'bin', 'pigeon.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, '--profile', profile, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pigeon ${args[0]} failed: ${stderr}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

export function tempProfile() {
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Waits until every QR image on the page has decoded (screenshots otherwise catch a blank box). */
export async function qrReady(page) {
  await page.locator('.qr img').first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('.qr img')].every((i) => i.complete && i.naturalWidth > 0));
}

/**
 * A second device of a CLI profile's account (new device keys certified by the same account key,
 * contacts copied). Not registered at the relay: it can send, which is all a key-change test needs.
 */
export async function newDeviceOf(home, newHome) {
  const src = openSqliteStore(join(home, 'pigeon.db'));
  const identity = src.getIdentity();
  const contacts = src.listContacts();
  src.close();
  const device = await createDeviceKeys(defaultBackend(), decodeAccountKeys(identity.accountKeys), Date.now());
  mkdirSync(newHome, { recursive: true, mode: 0o700 });
  const dst = openSqliteStore(join(newHome, 'pigeon.db'));
  dst.transaction(() => {
    dst.putIdentity({ ...identity, deviceKeys: encodeDeviceKeys(device) });
    for (const c of contacts) dst.putContact(c);
  });
  dst.close();
  return PigeonClient.open({ home: newHome, connectTimeoutMs: WAIT_MS });
}
