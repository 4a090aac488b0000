import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { describe, expect, it } from 'vitest';
import { corsHeaders, corsMiddleware } from './_cors.js';
import { json } from './_responses.js';

const ORIGINS = ['https://app.example', 'http://127.0.0.1:5173'];

/** An app answering like a token route (a `json()` answer, sometimes with `Retry-After`). */
function appWith(middleware: ReturnType<typeof cors>) {
  const app = new Hono();
  app.use('/swap', middleware);
  app.post('/swap', () => json(429, { error: 'x' }, { 'Retry-After': '3' }, 'id-1'));
  app.all('/swap', () => json(405, { error: 'y' }, { Allow: 'POST' }, 'id-2'));
  return app;
}

/** Hono's own middleware as the server configured it before it had {@link corsMiddleware}. */
const honoCors = appWith(
  cors({
    origin: ORIGINS,
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  }),
);
const ours = appWith(corsMiddleware(ORIGINS));

async function answer(app: Hono, init: RequestInit) {
  const response = await app.request('/swap', init);
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

describe('corsMiddleware', () => {
  it.each([
    ['a preflight from an allowed origin', 'OPTIONS', { Origin: 'https://app.example' }],
    ['a preflight from another origin', 'OPTIONS', { Origin: 'https://evil.example' }],
    ['a preflight without Origin', 'OPTIONS', {}],
    [
      'a preflight asking for headers',
      'OPTIONS',
      { Origin: 'http://127.0.0.1:5173', 'Access-Control-Request-Headers': 'content-type' },
    ],
    ['a POST from an allowed origin', 'POST', { Origin: 'https://app.example' }],
    ['a POST from another origin', 'POST', { Origin: 'https://evil.example' }],
    ['a POST without Origin', 'POST', {}],
    ['a GET from an allowed origin', 'GET', { Origin: 'https://app.example' }],
  ])(
    'answers %s with exactly the headers of Hono’s cors middleware',
    async (_what, method, headers) => {
      expect(await answer(ours, { method, headers })).toEqual(
        await answer(honoCors, { method, headers }),
      );
    },
  );

  it('corsHeaders: the origin only when it is allowed, always the exposed headers and Vary', () => {
    expect(corsHeaders(ORIGINS, 'https://app.example')).toEqual({
      'Access-Control-Allow-Origin': 'https://app.example',
      'Access-Control-Expose-Headers': 'X-Request-Id,Retry-After',
      Vary: 'Origin',
    });
    expect(corsHeaders(ORIGINS, 'https://app.example.evil')).toEqual({
      'Access-Control-Expose-Headers': 'X-Request-Id,Retry-After',
      Vary: 'Origin',
    });
    expect(corsHeaders(ORIGINS, undefined)).not.toHaveProperty('Access-Control-Allow-Origin');
  });
});
