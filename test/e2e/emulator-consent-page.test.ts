/**
 * The consent page as a person uses it: headless Chromium opens /authorize,
 * picks a user, clicks Agree or Cancel, and lands on a real redirect target.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/emulator/index.js';
import { launchChromium, skipWithoutChromium } from '../support/chromium.js';

const APP = {
  clientId: 'browser-app',
  clientSecret: 'browser-secret',
  // Registered with one port; the loopback rule lets the test's random port match it.
  redirectUris: ['http://127.0.0.1:8888/callback'],
};

describe.skipIf(skipWithoutChromium())('consent page in Chromium', () => {
  let emulator: Emulator;
  let server: EmulatorServer;
  let target: Server;
  let redirectUri: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    emulator = createEmulator({ apps: [APP] });
    server = await emulator.listen({ port: 0 });
    target = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>back in the app</p>');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(target.address() as AddressInfo).port}/callback`;
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    target?.closeAllConnections();
    await new Promise((resolve) => target?.close(resolve));
  });

  const authorizeUrl = (state: string, extra: Record<string, string> = {}) =>
    `${server.url}/authorize?${new URLSearchParams({
      client_id: APP.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'user-read-email user-library-read',
      state,
      ...extra,
    })}`;

  const landed = async (): Promise<URL> => {
    await page.waitForURL((url) => url.href.startsWith(`${redirectUri}?`));
    await expect(page.locator('p').textContent()).resolves.toBe('back in the app');
    return new URL(page.url());
  };

  test('Agree lands on the redirect URI with a real code and the same state', async () => {
    await page.goto(authorizeUrl('agree-state'));
    await expect(page.locator('#scopes').textContent()).resolves.toContain('user-library-read');
    await page.check('input[name="user"][value="demo-user-2"]');
    await page.click('#agree');
    const url = await landed();
    expect(url.searchParams.get('state')).toBe('agree-state');
    const code = url.searchParams.get('code');
    expect(code).toMatch(/^AQ/);

    const response = await fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code ?? '',
        redirect_uri: redirectUri,
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('user-read-email user-library-read');
    expect(emulator.lookupAccessToken(body.access_token)?.userId).toBe('demo-user-2');
  });

  test('an approved request skips the page; show_dialog=true shows it again', async () => {
    await page.goto(authorizeUrl('again'));
    const url = await landed();
    expect(url.searchParams.get('state')).toBe('again');
    expect(url.searchParams.get('code')).not.toBeNull();

    await page.goto(authorizeUrl('forced', { show_dialog: 'true' }));
    await expect(page.locator('#agree').isVisible()).resolves.toBe(true);
  });

  test('Cancel lands with error=access_denied and the same state', async () => {
    await page.goto(authorizeUrl('cancel-state', { show_dialog: 'true' }));
    await page.click('#cancel');
    const url = await landed();
    expect(Object.fromEntries(url.searchParams)).toEqual({
      error: 'access_denied',
      state: 'cancel-state',
    });
  });
});
