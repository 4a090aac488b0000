/**
 * Several tabs of examples/browser in one Chromium profile (one origin: one IndexedDB, one
 * Web Locks manager), against the emulator rotating the refresh token on every refresh —
 * so a refresh token sent twice is refused (invalid_grant) and would log the user out.
 * The tabs call the Web API at the same moment on an expired token: the emulator must see
 * exactly one refresh, every tab must end up on the new token, and no tab may log out.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  callMe,
  expireTokens,
  heldTokens,
  logIn,
  openTab,
  tokenEvents,
  useExample,
} from '../support/browser-example.js';
import { skipWithoutChromium } from '../support/chromium.js';

describe.skipIf(skipWithoutChromium())(
  'examples/browser: tabs share one login',
  { timeout: 90_000 },
  () => {
    const example = useExample();
    const { emulator } = example;
    /** `count` tabs of a fresh profile, the first one logged in, the others loaded after. */
    async function loggedInTabs(count: number): Promise<Page[]> {
      const context = await example.newProfile();
      const first = await openTab(context, example.url);
      await logIn(first);
      const others = await Promise.all(
        Array.from({ length: count - 1 }, () => openTab(context, example.url)),
      );
      for (const tab of others) {
        await expect.poll(() => tab.textContent('#user-name')).toBe('Demo User');
      }
      return [first, ...others];
    }

    /** Expires the access token at the emulator and in the store, and waits for every tab to hold the expired one. */
    async function expireEverywhere(tabs: Page[]): Promise<string> {
      const [first] = tabs as [Page];
      const { accessToken } = await heldTokens(first);
      emulator.expireAccessToken(accessToken as string);
      await expireTokens(first);
      for (const tab of tabs) {
        await expect
          .poll(async () => (await heldTokens(tab)).expiresAt ?? Number.POSITIVE_INFINITY)
          .toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 60);
      }
      return accessToken as string;
    }

    const refreshes = () => emulator.stats().grants.refresh_token ?? 0;

    /** All tabs call at once; checks one refresh, one new token everywhere, nobody logged out. */
    async function callTogether(tabs: Page[], calls: number, oldToken: string): Promise<void> {
      const before = refreshes();
      const at = Date.now() + 300;
      const results = await Promise.all(tabs.map((tab) => callMe(tab, calls, at)));
      expect(refreshes()).toBe(before + 1);
      for (const result of results) {
        expect(result.errors).toEqual([]);
        expect(result.ok).toBe(calls);
      }
      const [first] = results as [(typeof results)[0]];
      expect(first.accessToken).not.toBe(oldToken);
      expect(emulator.lookupAccessToken(first.accessToken as string)).toBeDefined();
      for (const result of results) {
        expect(result.accessToken).toBe(first.accessToken);
        expect(result.refreshToken).toBe(first.refreshToken);
      }
      // onTokens ran in every tab: the one that refreshed, and the others through syncTabs.
      for (const tab of tabs) {
        await expect
          .poll(async () => (await tokenEvents(tab)).at(-1)?.accessToken)
          .toBe(first.accessToken);
        await expect.poll(() => tab.isVisible('#signed-in')).toBe(true);
      }
    }

    it('two tabs on an expired token: one refresh, both on the new token', async () => {
      const tabs = await loggedInTabs(2);
      const old = await expireEverywhere(tabs);
      await callTogether(tabs, 1, old);
    });

    it('five tabs, twenty calls each: one refresh per expiry, by time or by a 401', async () => {
      const tabs = await loggedInTabs(5);
      await callTogether(tabs, 20, await expireEverywhere(tabs));
      // The emulator expires the token early: every tab still thinks it valid and meets a 401.
      const { accessToken } = await heldTokens(tabs[0] as Page);
      emulator.expireAccessToken(accessToken as string);
      await callTogether(tabs, 20, accessToken as string);
    });

    it('a tab closed mid-refresh: another takes the lock and finishes; nobody is logged out', async () => {
      const tabs = await loggedInTabs(3);
      const [holder, ...others] = tabs as [Page, Page, Page];
      const old = await expireEverywhere(tabs);
      const tokenPosts = () => emulator.stats().requests['POST /api/token'] ?? 0;
      const posted = tokenPosts();
      // The holder's refresh reaches the emulator and is kept waiting there.
      emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs: 4_000, count: 1 });
      void callMe(holder, 1, 0).catch(() => {});
      await expect.poll(tokenPosts).toBe(posted + 1);
      const waiting = others.map((tab) => callMe(tab, 5, 0));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(tokenPosts()).toBe(posted + 1); // the others wait for the lock
      await holder.close();
      const results = await Promise.all(waiting);
      for (const result of results) {
        expect(result.errors).toEqual([]);
        expect(result.accessToken).not.toBe(old);
        expect(result.accessToken).toBe(results[0]?.accessToken);
        expect(result.refreshToken).toBe(results[0]?.refreshToken);
      }
      // The closed tab's request is answered after the others' refresh, with invalid_grant
      // for the token they rotated away; the stored refresh token is still the live one.
      await new Promise((resolve) => setTimeout(resolve, 4_200));
      await callTogether(others, 2, await expireEverywhere(others));
    });

    it('a logout in one tab logs out the other; a login in one logs in the other', async () => {
      const [first, second] = (await loggedInTabs(2)) as [Page, Page];
      await first.click('#logout');
      for (const tab of [first, second]) {
        await expect.poll(() => tab.isVisible('#signed-out')).toBe(true);
        expect(await tab.isVisible('#signed-in')).toBe(false);
        expect(await heldTokens(tab)).toEqual({
          accessToken: undefined,
          refreshToken: undefined,
          expiresAt: undefined,
        });
      }
      expect((await tokenEvents(second)).at(-1)).toEqual({
        source: 'other tab',
        accessToken: undefined,
        loggedIn: false,
      });
      await logIn(second);
      await expect.poll(() => first.textContent('#user-name')).toBe('Demo User');
    });
  },
);
