/**
 * examples/browser in Chromium, for test/e2e/browser-*.test.ts: the example's own server
 * (serve.mjs: the page bundled by esbuild, beside an emulator the test controls), one
 * browser, and the steps a person takes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.js';
import { REPO_ROOT } from '../runtimes/packages.js';
import { launchChromium } from './chromium.js';

export interface ExampleResult {
  ok: number;
  errors: string[];
  accessToken: string | undefined;
  refreshToken: string | undefined;
}

/** What the page exposes as `window.__app` (examples/browser/main.ts). */
interface AppHooks {
  session: {
    getAccessToken(): string | undefined;
    getRefreshToken(): string | undefined;
    getTokenExpiration(): number | undefined;
  };
  events: { source: string; accessToken: string | undefined; loggedIn: boolean }[];
  callMe(count: number, at?: number): Promise<ExampleResult>;
  expire(): Promise<void>;
}

export interface RunningExample {
  url: string;
  emulator: Emulator;
  browser: Browser;
  close(): Promise<void>;
}

export async function startExample(emulator: Emulator): Promise<RunningExample> {
  if (!existsSync(join(REPO_ROOT, 'dist/emulator/index.js'))) {
    throw new Error(
      'dist/ is missing: run `npm run build` first (`npm test` does it before vitest)',
    );
  }
  const { startBrowserExample } = (await import(join(REPO_ROOT, 'examples/browser/serve.mjs'))) as {
    startBrowserExample(options: { port: number; emulator: Emulator }): Promise<{
      url: string;
      close(): Promise<void>;
    }>;
  };
  const example = await startBrowserExample({ port: 0, emulator });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await example.close();
    throw error;
  });
  return {
    url: example.url,
    emulator,
    browser,
    async close() {
      await browser.close();
      await example.close();
    },
  };
}

/**
 * For a describe block: one emulator (rotating every refresh token, as Spotify does for
 * PKCE apps) and the example beside it; `newProfile()` gives each test a fresh browser
 * profile (its own IndexedDB, locks and cookies), closed after the test with any fault.
 */
export function useExample(): {
  readonly url: string;
  readonly emulator: Emulator;
  newProfile(): Promise<BrowserContext>;
} {
  const emulator = createEmulator({ rotation: 'always' });
  let example: RunningExample | undefined;
  let profile: BrowserContext | undefined;
  beforeAll(async () => {
    example = await startExample(emulator);
  });
  afterAll(async () => {
    await example?.close();
  });
  afterEach(async () => {
    await profile?.close();
    emulator.clearFaults();
  });
  return {
    get url() {
      return (example as RunningExample).url;
    },
    emulator,
    async newProfile() {
      profile = await (example as RunningExample).browser.newContext();
      return profile;
    },
  };
}

/** A tab on the example's home page, ready (its first render done). */
export async function openTab(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await ready(page);
  return page;
}

export async function ready(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]');
}

/**
 * Log in → the emulator's consent page → Agree → back on the page with the user's name.
 * Like Spotify, the emulator skips its page for a browser whose user already approved.
 */
export async function logIn(page: Page): Promise<void> {
  const home = new URL(page.url()).origin;
  await Promise.all([
    page.waitForURL((address) => address.origin !== home || address.pathname === '/callback'),
    page.click('#login'),
  ]);
  if (new URL(page.url()).origin !== home) {
    await page.waitForSelector('#agree');
    await page.click('#agree');
  }
  await page.waitForURL((address) => address.origin === home && address.pathname === '/');
  await ready(page);
  await expect.poll(() => page.textContent('#user-name')).toBe('Demo User');
}

/** Runs `count` concurrent `GET /me` in the page from the moment `at` on. */
export function callMe(page: Page, count: number, at: number): Promise<ExampleResult> {
  return page.evaluate(
    ([count, at]) => (window as unknown as { __app: AppHooks }).__app.callMe(count, at),
    [count, at] as const,
  );
}

export function expireTokens(page: Page): Promise<void> {
  return page.evaluate(() => (window as unknown as { __app: AppHooks }).__app.expire());
}

export interface HeldTokens {
  accessToken: string | undefined;
  refreshToken: string | undefined;
  expiresAt: number | undefined;
}

/** What the tab's Session holds now. */
export function heldTokens(page: Page): Promise<HeldTokens> {
  return page.evaluate(() => {
    const { session } = (window as unknown as { __app: AppHooks }).__app;
    return {
      accessToken: session.getAccessToken(),
      refreshToken: session.getRefreshToken(),
      expiresAt: session.getTokenExpiration(),
    };
  });
}

export function tokenEvents(page: Page): Promise<AppHooks['events']> {
  return page.evaluate(() => (window as unknown as { __app: AppHooks }).__app.events);
}
