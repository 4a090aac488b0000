/** The emulator in-process (`app.request`, `fetch`), no port. */
import { expect, test } from 'vitest';
import { createEmulator, DEMO_APP, DEMO_USERS } from './index.js';

test('demo values are the documented ones', () => {
  expect(DEMO_APP).toEqual({
    clientId: 'spotify-session-demo',
    clientSecret: 'spotify-session-demo-secret',
    redirectUris: ['http://127.0.0.1:8888/callback', 'spotify-session-demo://callback'],
  });
  expect(DEMO_USERS.map((user) => [user.id, user.displayName, user.product])).toEqual([
    ['demo-user', 'Demo User', 'premium'],
    ['demo-user-2', 'Second Demo User', 'free'],
  ]);
});

test('a whole code flow through app.request', async () => {
  const emulator = createEmulator({ autoApprove: true });
  const authorized = await emulator.app.request(
    '/authorize?client_id=spotify-session-demo&response_type=code&redirect_uri=spotify-session-demo://callback&state=s',
  );
  expect(authorized.status).toBe(302);
  const code = new URL(authorized.headers.get('Location') ?? '').searchParams.get('code') ?? '';
  const response = await emulator.fetch(
    new Request('http://emulator/api/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'spotify-session-demo://callback',
        client_id: DEMO_APP.clientId,
        client_secret: DEMO_APP.clientSecret,
      }),
    }),
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.token_type).toBe('Bearer');
});

test('an empty POST without a content type reads as a missing grant_type', async () => {
  const response = await createEmulator().app.request('/api/token', { method: 'POST' });
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({
    error: 'unsupported_grant_type',
    error_description: 'grant_type parameter is missing',
  });
});

test('a Basic header with form-encoded credentials (RFC 6749 §2.3.1) is accepted', async () => {
  const emulator = createEmulator({
    apps: [{ clientId: 'id', clientSecret: 'a+b c/%', redirectUris: [] }],
  });
  const encoded = encodeURIComponent('a+b c/%').replace(/%20/g, '+');
  const response = await emulator.app.request('/api/token', {
    method: 'POST',
    headers: {
      Authorization: `Basic ${btoa(`id:${encoded}`)}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  expect(response.status).toBe(200);
});

test('invalid options throw a TypeError naming the option', () => {
  expect(() => createEmulator({ rotation: 'sometimes' as 'never' })).toThrow(/rotation/);
  expect(() => createEmulator({ accessTokenLifetime: 0 })).toThrow(/accessTokenLifetime/);
  expect(() => createEmulator({ users: [] })).toThrow(/users/);
  expect(() =>
    createEmulator({
      apps: [
        { clientId: 'a', clientSecret: 's', redirectUris: [] },
        { clientId: 'a', clientSecret: 's', redirectUris: [] },
      ],
    }),
  ).toThrow(/twice/);
  expect(() => createEmulator().advanceClock(-1)).toThrow(TypeError);
  expect(() =>
    createEmulator({
      apps: [{ clientId: 'a', clientSecret: 's', redirectUris: [], extendedQuota: 'yes' as never }],
    }),
  ).toThrow(/extendedQuota/);
  expect(() => createEmulator().setActiveDevice('demo-user', 'no-such-device')).toThrow(TypeError);
  expect(() => createEmulator().setProduct('nobody', 'free')).toThrow(TypeError);
});

test('an unknown path is a 404; an unknown Web API path a Spotify-shaped 404', async () => {
  const emulator = createEmulator();
  expect((await emulator.app.request('/nope')).status).toBe(404);
  const unknown = await emulator.app.request('/v1/nope');
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toEqual({ error: { status: 404, message: 'Service not found' } });
  // /v1/me exists: without a token it is a 401, not a 404.
  expect((await emulator.app.request('/v1/me')).status).toBe(401);
});
