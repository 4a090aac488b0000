/**
 * Random methods, paths, headers and bodies thrown at the token server: never a 500,
 * never a crash, every answer JSON with the no-store headers.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/server/keyring.js';
import { createTokenServer } from '../../src/server/token-server.js';

const keyring = await Keyring.parse(Keyring.generateKeyString());
let upstreamCalls = 0;
const server = createTokenServer({
  clientId: 'fuzz-client',
  clientSecret: 'fuzz-secret',
  redirectUris: ['fuzz-app://callback', 'https://fuzz.example/cb'],
  keyring,
  accountsUrl: 'http://127.0.0.1:9',
  // Spotify, answering quickly with an OAuth error, so fuzzed codes go all the way through.
  fetch: async () => {
    upstreamCalls += 1;
    return Response.json(
      { error: 'invalid_grant', error_description: 'Invalid authorization code' },
      { status: 400 },
    );
  },
  logger: false,
  rateLimit: { ip: 0, token: 0 },
  corsOrigins: ['https://app.example'],
});
const sealed = await keyring.seal('fuzz-refresh-token', { clientId: 'fuzz-client' });

afterAll(() => server.close());

const method = fc.oneof(
  { arbitrary: fc.constant('POST'), weight: 4 },
  {
    arbitrary: fc.constantFrom(
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'HEAD',
      'PROPFIND',
      'BREW',
    ),
    weight: 3,
  },
);
const segment = fc.oneof(
  fc.constantFrom(
    'swap',
    'refresh',
    'healthz',
    'readyz',
    'metrics',
    'v1',
    '',
    '..',
    '%2e%2e',
    '%',
    '%ZZ',
  ),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.stringMatching(/^[A-Za-z0-9%._~!$&'()*+,;=:@-]{0,12}$/),
);
const randomPath = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.option(fc.string({ maxLength: 20 })))
  .map(
    ([parts, query]) =>
      `/${parts.join('/')}${query === null ? '' : `?${encodeURIComponent(query)}`}`,
  );
const path = fc.oneof(
  { arbitrary: fc.constantFrom('/swap', '/refresh'), weight: 3 },
  { arbitrary: randomPath, weight: 2 },
);
const value = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    sealed,
    `${sealed}x`,
    'a'.repeat(3000),
    '',
    ' ',
    'authorization_code',
    'refresh_token',
    'fuzz-client',
  ),
);
const formBody = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'code',
        'refresh_token',
        'code_verifier',
        'redirect_uri',
        'client_id',
        'grant_type',
        'x',
        '',
      ),
      value,
    ),
    { maxLength: 6 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
/** Well-formed requests, so many runs go all the way to (the stub) Spotify. */
const plausibleBody = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    fc.constantFrom(
      '',
      `&refresh_token=${sealed}`,
      '&grant_type=authorization_code',
      '&client_id=fuzz-client',
    ),
  )
  .map(([code, extra]) => `code=${code}${extra}`);
const body = fc.oneof(
  { arbitrary: plausibleBody, weight: 3 },
  { arbitrary: formBody, weight: 4 },
  { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
  {
    arbitrary: fc
      .dictionary(
        fc.constantFrom('code', 'refresh_token', 'client_id', 'grant_type'),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map((v) => JSON.stringify(v)),
    weight: 2,
  },
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
  { arbitrary: fc.constant('a'.repeat(9000)), weight: 1 },
);
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      'application/json',

      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/json',
      'APPLICATION/JSON',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      ';;;',
    ),
    fc.string({ maxLength: 30 }).filter((s) => !/[\r\n\0]/.test(s)),
  ),
);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const extraHeaders = fc.record(
  {
    'x-request-id': headerValue,
    'x-forwarded-for': headerValue,
    origin: fc.oneof(fc.constant('https://app.example'), headerValue),
    authorization: headerValue,
    'access-control-request-method': fc.constantFrom('POST', 'GET', 'PUT'),
    accept: headerValue,
  },
  { requiredKeys: [] },
);

describe('fuzzing the token server', () => {
  it('answers every request with JSON, no-store, and never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        contentType,
        body,
        extraHeaders,
        async (m, p, type, b, extra) => {
          const headers = new Headers();
          for (const [name, v] of Object.entries(extra)) headers.set(name, v);
          if (type !== null) headers.set('content-type', type);
          const canHaveBody = m !== 'GET' && m !== 'HEAD';
          const response = await server.app.request(p, {
            method: m,
            headers,
            ...(canHaveBody ? { body: b } : {}),
          });
          expect(response.status).toBeGreaterThanOrEqual(200);
          expect(response.status).toBeLessThan(500);
          expect(response.headers.get('content-type')).toBe('application/json');
          expect(response.headers.get('cache-control')).toBe('no-store');
          expect(response.headers.get('pragma')).toBe('no-cache');
          const text = await response.text();
          if (m === 'HEAD' || response.status === 204) return;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          expect(typeof parsed).toBe('object');
          expect(text).not.toMatch(/<html|at .*\.ts:\d+/i);
          if (response.status >= 400 && response.status !== 404) {
            expect(typeof parsed.error).toBe('string');
            expect(typeof parsed.error_description).toBe('string');
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(upstreamCalls).toBeGreaterThan(0);
  }, 20_000);
});
