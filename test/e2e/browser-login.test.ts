/**
 * The login of examples/browser as a person goes through it in Chromium: Log in → the
 * emulator's consent page → back with the user's name and playlists; Cancel; the callback
 * URL opened again or reloaded mid-exchange; a forged callback. The emulator counts code
 * exchanges, so a code spent twice would show.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { heldTokens, logIn, openTab, ready, useExample } from '../support/browser-example.js';
import { skipWithoutChromium } from '../support/chromium.js';

describe.skipIf(skipWithoutChromium())('examples/browser: logging in', { timeout: 90_000 }, () => {
  const example = useExample();
  const { emulator } = example;

  async function newTab(): Promise<Page> {
    return openTab(await example.newProfile(), example.url);
  }

  const exchanges = () => emulator.stats().grants.authorization_code ?? 0;

  async function shownError(page: Page): Promise<{ reason: string | undefined; text: string }> {
    await page.waitForSelector('#error:not([hidden])');
    return page.$eval('#error', (element) => ({
      reason: (element as HTMLElement).dataset.reason,
      text: element.textContent ?? '',
    }));
  }

  it('Log in → consent → back: the name, the playlists page by page, a clean address bar', async () => {
    const page = await newTab();
    expect(await page.isVisible('#login')).toBe(true);
    const callbacks: string[] = [];
    page.on('framenavigated', (frame) => {
      if (new URL(frame.url()).searchParams.has('code')) callbacks.push(frame.url());
    });
    const before = exchanges();
    await logIn(page);
    expect(exchanges()).toBe(before + 1);
    expect(callbacks).toHaveLength(1);
    expect(new URL(page.url()).search).toBe('');
    expect(await page.$$eval('#playlists li', (items) => items.length)).toBe(2);
    await page.click('#more');
    await expect.poll(() => page.$$eval('#playlists li', (items) => items.length)).toBe(4);

    // The callback URL opened again (history, a bookmark, a reload): refused, nothing spent,
    // the login kept.
    const tokens = await heldTokens(page);
    await page.goto(callbacks[0] as string);
    await ready(page);
    expect(await shownError(page)).toMatchObject({ reason: 'missing_verifier' });
    expect(exchanges()).toBe(before + 1);
    expect(new URL(page.url()).search).toBe('');
    await expect.poll(() => page.textContent('#user-name')).toBe('Demo User');
    expect(await heldTokens(page)).toEqual(tokens);
  });

  it('a reload while the code is being exchanged never sends it again', async () => {
    const page = await newTab();
    const before = exchanges();
    const tokenPosts = () => emulator.stats().requests['POST /api/token'] ?? 0;
    const posted = tokenPosts();
    emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs: 1_500, count: 1 });
    await page.click('#login');
    await page.waitForSelector('#agree');
    await page.click('#agree');
    // The page is back with the code and has sent the exchange; the address bar is clean already.
    await expect.poll(tokenPosts).toBe(posted + 1);
    await page.waitForURL((address) => address.pathname === '/callback' && address.search === '');
    await page.reload();
    await ready(page);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the delayed exchange lands
    expect(exchanges()).toBe(before + 1);
    expect(await page.isVisible('#error')).toBe(false);
    expect(new URL(page.url()).pathname).toBe('/');
    // The answer went to the page that was reloaded away: log in again, which works.
    await logIn(page);
  });

  it('Cancel on the consent page: access_denied, said so, nobody logged in', async () => {
    const page = await newTab();
    const before = exchanges();
    await page.click('#login');
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.waitForURL((address) => address.pathname === '/');
    await ready(page);
    const error = await shownError(page);
    expect(error.reason).toBe('access_denied');
    expect(error.text).toContain('Offer to log in again');
    expect(await page.isVisible('#login')).toBe(true);
    expect(exchanges()).toBe(before);
  });

  it('a forged callback (another state) is refused before any exchange', async () => {
    const page = await newTab();
    const before = exchanges();
    await page.click('#login');
    await page.waitForSelector('#agree');
    // Instead of consenting, the tab is sent an attacker's callback: their code, another state.
    await page.goto(`${example.url}/callback?code=AQ-attackers-code&state=forged-state`);
    await ready(page);
    const error = await shownError(page);
    expect(error.reason).toBe('state_mismatch');
    expect(error.text).toContain('forgery');
    expect(exchanges()).toBe(before);
    expect(await heldTokens(page)).toEqual({
      accessToken: undefined,
      refreshToken: undefined,
      expiresAt: undefined,
    });
  });
});
