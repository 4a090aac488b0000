/**
 * `GET /authorize` and the consent form over real HTTP with raw fetch
 * (Spotify's authorization guides): client, redirect URI rules, response_type, scope,
 * state, PKCE parameters, show_dialog.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  authorize,
  authorizeUrl,
  exchange,
  locationOf,
  pkcePair,
  REDIRECT_URI,
} from '../../src/emulator/_test-http.js';
import {
  createEmulator,
  DEMO_APP,
  DEMO_USERS,
  type Emulator,
  type EmulatorServer,
  OPEN_ACCESS_SCOPES,
  STANDARD_SCOPES,
} from '../../src/emulator/index.js';

const WEB_APP = {
  clientId: 'web-app',
  clientSecret: 'web-app-secret',
  redirectUris: ['https://app.example.com/callback', 'http://[::1]:7000/cb', 'myapp://callback'],
};

let auto: Emulator;
let autoServer: EmulatorServer;
let manual: Emulator;
let manualServer: EmulatorServer;

beforeAll(async () => {
  auto = createEmulator({ apps: [DEMO_APP, WEB_APP], autoApprove: true });
  autoServer = await auto.listen({ port: 0 });
  manual = createEmulator({
    apps: [DEMO_APP, WEB_APP],
    users: [
      ...DEMO_USERS,
      {
        id: 'evil',
        displayName: '<script>alert(1)</script> & "Co"',
        email: 'e@example.com',
        country: 'SE',
        product: 'free',
      },
    ],
  });
  manualServer = await manual.listen({ port: 0 });
});

afterAll(async () => {
  await Promise.all([autoServer?.close(), manualServer?.close()]);
});

async function expectErrorPage(response: Response, text: string): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get('Location')).toBeNull();
  expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
  expect(await response.text()).toContain(text);
}

describe('client_id', () => {
  test('an unknown client shows INVALID_CLIENT: Invalid client and does not redirect', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { client_id: 'nobody', state: 's' }),
      'INVALID_CLIENT: Invalid client',
    );
  });

  test('a missing client_id is an invalid client too', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { client_id: undefined }),
      'INVALID_CLIENT: Invalid client',
    );
  });
});

describe('redirect_uri rules', () => {
  const approved = async (params: Record<string, string>, expectedPrefix: string) => {
    const response = await authorize(autoServer.url, { state: 'st', ...params });
    expect(response.status).toBe(302);
    const location = response.headers.get('Location') ?? '';
    expect(location.startsWith(`${expectedPrefix}?`)).toBe(true);
    const url = new URL(location);
    expect(url.searchParams.get('code')).toMatch(/^AQ[A-Za-z0-9_-]{43,}$/);
    expect(url.searchParams.get('state')).toBe('st');
  };

  test('an exact match of a registered loopback URI', async () => {
    await approved({ redirect_uri: REDIRECT_URI }, REDIRECT_URI);
  });

  test('an exact match of a registered https URI', async () => {
    await approved(
      { client_id: 'web-app', redirect_uri: 'https://app.example.com/callback' },
      'https://app.example.com/callback',
    );
  });

  test('an IPv4 loopback literal with another port', async () => {
    await approved(
      { redirect_uri: 'http://127.0.0.1:54321/callback' },
      'http://127.0.0.1:54321/callback',
    );
  });

  test('an IPv6 loopback literal with another port', async () => {
    await approved(
      { client_id: 'web-app', redirect_uri: 'http://[::1]:61000/cb' },
      'http://[::1]:61000/cb',
    );
  });

  test('a registered custom scheme', async () => {
    await approved(
      { redirect_uri: 'spotify-session-demo://callback' },
      'spotify-session-demo://callback',
    );
  });

  test('localhost is refused as insecure, even with a registered path', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { redirect_uri: 'http://localhost:8888/callback' }),
      'INVALID_CLIENT: Insecure redirect URI',
    );
  });

  test('any other plain-http host is refused as insecure', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { redirect_uri: 'http://app.example.com/callback' }),
      'INVALID_CLIENT: Insecure redirect URI',
    );
  });

  test('an unregistered https URI is refused', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { redirect_uri: 'https://evil.example/callback' }),
      'INVALID_CLIENT: Invalid redirect URI',
    );
  });

  test('a registered https URI with another port or path is refused (exact match)', async () => {
    for (const redirect_uri of [
      'https://app.example.com:8443/callback',
      'https://app.example.com/callback/',
      'https://app.example.com/callback?x=1',
    ])
      await expectErrorPage(
        await authorize(autoServer.url, { client_id: 'web-app', redirect_uri }),
        'INVALID_CLIENT: Invalid redirect URI',
      );
  });

  test('a loopback URI with another path is refused', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { redirect_uri: 'http://127.0.0.1:8888/other' }),
      'INVALID_CLIENT: Invalid redirect URI',
    );
  });

  test("another app's redirect URI is refused", async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { redirect_uri: 'https://app.example.com/callback' }),
      'INVALID_CLIENT: Invalid redirect URI',
    );
  });

  test('a missing redirect_uri is refused', async () => {
    await expectErrorPage(
      await authorize(autoServer.url, { redirect_uri: undefined }),
      'INVALID_CLIENT: Invalid redirect URI',
    );
  });

  test('createEmulator refuses to register a localhost redirect URI', () => {
    expect(() =>
      createEmulator({
        apps: [{ clientId: 'x', clientSecret: 'y', redirectUris: ['http://localhost:3000/cb'] }],
      }),
    ).toThrow(TypeError);
  });
});

describe('errors redirected to the app', () => {
  test('response_type other than code → unsupported_response_type, state echoed', async () => {
    for (const response_type of ['token', undefined]) {
      const response = await authorize(autoServer.url, { response_type, state: 'abc' });
      expect(response.status).toBe(302);
      const url = locationOf(response);
      expect(`${url.origin}${url.pathname}`).toBe(REDIRECT_URI);
      expect(Object.fromEntries(url.searchParams)).toEqual({
        error: 'unsupported_response_type',
        state: 'abc',
      });
    }
  });

  test('an unknown scope → invalid_scope, state echoed', async () => {
    const response = await authorize(autoServer.url, {
      scope: 'user-read-email user-read-everything',
      state: 'xyz',
    });
    expect(Object.fromEntries(locationOf(response).searchParams)).toEqual({
      error: 'invalid_scope',
      state: 'xyz',
    });
  });

  test('every standard and Open Access scope (old names too) is accepted', async () => {
    const scopes = [...STANDARD_SCOPES, ...OPEN_ACCESS_SCOPES];
    expect(scopes).toContain('user-manage-entitlements');
    const code = locationOf(
      await authorize(autoServer.url, { scope: scopes.join(' ') }),
    ).searchParams.get('code');
    expect(code).not.toBeNull();
    const answer = await exchange(autoServer.url, code ?? '');
    expect(answer.body.scope).toBe(scopes.join(' '));
  });

  test('scopes separated by + or %20 in the URL', async () => {
    for (const separator of ['+', '%20']) {
      const url = `${authorizeUrl(autoServer.url)}&scope=user-read-email${separator}user-read-private`;
      const code = locationOf(await fetch(url, { redirect: 'manual' })).searchParams.get('code');
      const answer = await exchange(autoServer.url, code ?? '');
      expect(answer.body.scope).toBe('user-read-email user-read-private');
    }
  });

  test('state is echoed byte for byte; no state, no state parameter', async () => {
    const state = 'a b&c=d/é?+%2F';
    expect(locationOf(await authorize(autoServer.url, { state })).searchParams.get('state')).toBe(
      state,
    );
    expect(locationOf(await authorize(autoServer.url)).searchParams.has('state')).toBe(false);
  });

  test('the loopback port the app asked for is the one redirected to', async () => {
    const response = await authorize(autoServer.url, {
      redirect_uri: 'http://127.0.0.1:9000/callback',
      state: 's',
    });
    expect(locationOf(response).port).toBe('9000');
  });
});

describe('PKCE parameters', () => {
  const expectInvalidRequest = async (params: Record<string, string>) => {
    const response = await authorize(autoServer.url, { state: 'p', ...params });
    expect(response.status).toBe(302);
    expect(Object.fromEntries(locationOf(response).searchParams)).toEqual({
      error: 'invalid_request',
      state: 'p',
    });
  };

  test('S256 with a 43-character challenge gives a code', async () => {
    const response = await authorize(autoServer.url, {
      code_challenge_method: 'S256',
      code_challenge: pkcePair().challenge,
    });
    expect(locationOf(response).searchParams.get('code')).not.toBeNull();
  });

  test('plain is refused', async () => {
    await expectInvalidRequest({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) });
  });

  test('a challenge without a method (RFC 7636 would default to plain) is refused', async () => {
    await expectInvalidRequest({ code_challenge: pkcePair().challenge });
  });

  test('a method without a challenge is refused', async () => {
    await expectInvalidRequest({ code_challenge_method: 'S256' });
  });

  test('a challenge that is not base64url of a SHA-256 digest is refused', async () => {
    await expectInvalidRequest({ code_challenge_method: 'S256', code_challenge: 'short' });
    await expectInvalidRequest({
      code_challenge_method: 'S256',
      code_challenge: `${'a'.repeat(42)}=`,
    });
  });
});

describe('consent page', () => {
  const transactionOf = (html: string) =>
    /name="transaction" value="([^"]+)"/.exec(html)?.[1] ?? '';

  const decide = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${manualServer.url}/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });

  const openPage = async (params: Record<string, string> = {}, cookie?: string) => {
    const response = await authorize(
      manualServer.url,
      { scope: 'user-read-email playlist-read-private', state: 'st8', ...params },
      cookie === undefined ? {} : { Cookie: cookie },
    );
    return response;
  };

  test('shows users and scopes, escapes HTML, forbids framing', async () => {
    const response = await openPage();
    expect(response.status).toBe(200);
    expect(response.headers.get('X-Frame-Options')).toBe('DENY');
    expect(response.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
    const html = await response.text();
    expect(html).toContain('value="demo-user"');
    expect(html).toContain('value="demo-user-2"');
    expect(html).toContain('user-read-email');
    expect(html).toContain('playlist-read-private');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(html).not.toContain('<script>');
    expect(transactionOf(html)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('Agree redirects with a real code and the state; the transaction is single-use', async () => {
    const transaction = transactionOf(await (await openPage()).text());
    const response = await decide({ transaction, user: 'demo-user-2', decision: 'agree' });
    expect(response.status).toBe(302);
    const location = locationOf(response);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('st8');
    const answer = await exchange(manualServer.url, location.searchParams.get('code') ?? '');
    expect(answer.status).toBe(200);
    expect(manual.lookupAccessToken(String(answer.body.access_token))?.userId).toBe('demo-user-2');

    const replay = await decide({ transaction, user: 'demo-user', decision: 'agree' });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('Location')).toBeNull();
  });

  test('Cancel redirects with error=access_denied and the state', async () => {
    const transaction = transactionOf(await (await openPage()).text());
    const response = await decide({ transaction, decision: 'cancel' });
    expect(Object.fromEntries(locationOf(response).searchParams)).toEqual({
      error: 'access_denied',
      state: 'st8',
    });
  });

  test('a forged transaction, an unknown user or a JSON body is refused', async () => {
    expect(
      (await decide({ transaction: 'forged', user: 'demo-user', decision: 'agree' })).status,
    ).toBe(400);
    const transaction = transactionOf(await (await openPage()).text());
    const unknownUser = await decide({ transaction, user: 'nobody', decision: 'agree' });
    expect(unknownUser.status).toBe(400);
    const json = await fetch(`${manualServer.url}/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ transaction, decision: 'agree' }),
    });
    expect(json.status).toBe(400);
  });

  test('an expired consent transaction is refused', async () => {
    const transaction = transactionOf(await (await openPage()).text());
    manual.advanceClock(601);
    const response = await decide({ transaction, user: 'demo-user', decision: 'agree' });
    expect(response.status).toBe(400);
  });

  test('show_dialog: an approved request skips the page unless show_dialog=true', async () => {
    const transaction = transactionOf(await (await openPage()).text());
    const agreed = await decide({ transaction, user: 'demo-user', decision: 'agree' });
    const cookie = (agreed.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^spotify_emulator_session=/);

    const again = await openPage({ state: 'second' }, cookie);
    expect(again.status).toBe(302);
    expect(locationOf(again).searchParams.get('state')).toBe('second');
    expect(locationOf(again).searchParams.get('code')).not.toBeNull();

    const subset = await openPage({ scope: 'user-read-email' }, cookie);
    expect(subset.status).toBe(302);

    expect((await openPage({ show_dialog: 'true' }, cookie)).status).toBe(200);
    expect((await openPage({ scope: 'user-read-email streaming' }, cookie)).status).toBe(200);
    expect((await openPage({}, undefined)).status).toBe(200);
  });

  test('autoApprove redirects at once, even with show_dialog=true', async () => {
    const response = await authorize(autoServer.url, { show_dialog: 'true', state: 'x' });
    expect(response.status).toBe(302);
    expect(locationOf(response).searchParams.get('code')).not.toBeNull();
  });

  test('autoApprove with a user id approves as that user', async () => {
    const emulator = createEmulator({ autoApprove: 'demo-user-2' });
    const server = await emulator.listen();
    try {
      const code = locationOf(await authorize(server.url)).searchParams.get('code') ?? '';
      const answer = await exchange(server.url, code);
      expect(emulator.lookupAccessToken(String(answer.body.access_token))?.userId).toBe(
        'demo-user-2',
      );
    } finally {
      await server.close();
    }
  });

  test('createEmulator refuses an unknown autoApprove user', () => {
    expect(() => createEmulator({ autoApprove: 'nobody' })).toThrow(/nobody/);
  });
});
