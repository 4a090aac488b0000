/**
 * Launches Debian's Chromium for tests a person would click through.
 *
 * When no Chromium is installed, tests that need it are skipped with a loud
 * message on a developer's machine and fail under `CI=true`, so CI can never
 * pass by silently skipping the browser.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { skipLoudly } from './skip-or-fail.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Path of the Chromium binary, or `undefined` when none is installed. */
export const chromiumPath: string | undefined = CANDIDATES.find(
  (path): path is string => path !== undefined && path !== '' && existsSync(path),
);

/**
 * `true` when browser tests must be skipped (no Chromium, not under CI).
 * Under `CI=true` a missing Chromium throws instead, failing the suite.
 */
export function skipWithoutChromium(): boolean {
  if (chromiumPath !== undefined) return false;
  const message =
    'Chromium not found (looked for $CHROMIUM_PATH, /usr/bin/chromium): install it with `apt-get install -y chromium`.';
  return skipLoudly('Browser', message);
}

/** Starts a headless Chromium with the flags this closed network needs. */
export async function launchChromium(): Promise<Browser> {
  if (chromiumPath === undefined) throw new Error('Chromium is not installed');
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
