import { describe, expect, it } from 'vitest';
import { paramsSourceOf, readBodyLimited, readParams } from './_body.js';

const FORM = 'application/x-www-form-urlencoded';

function post(body: BodyInit | null, headers: Record<string, string> = { 'content-type': FORM }) {
  return new Request('http://server.test/swap', { method: 'POST', body, headers });
}

function streamOf(
  chunks: number,
  size: number,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= chunks) return controller.close();
      pulled += 1;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
  return { stream, pulled: () => pulled };
}

describe('readBodyLimited', () => {
  it('refuses a declared Content-Length over the limit without reading', async () => {
    const { stream, pulled } = streamOf(1, 10);
    const request = new Request('http://server.test/', {
      method: 'POST',
      body: stream,
      headers: { 'content-length': '9000' },
      duplex: 'half',
    } as RequestInit);
    expect(await readBodyLimited(request, 8192)).toBeUndefined();
    expect(pulled()).toBeLessThanOrEqual(1); // the stream pre-fills one chunk itself
  });

  it('stops reading an endless stream as soon as it passes the limit', async () => {
    const { stream, pulled } = streamOf(1_000_000, 1024);
    const request = new Request('http://server.test/', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await readBodyLimited(request, 8192)).toBeUndefined();
    expect(pulled()).toBeLessThan(20);
  });

  it('reads a body at the limit exactly', async () => {
    const body = await readBodyLimited(post('a'.repeat(8192)), 8192);
    expect(body?.byteLength).toBe(8192);
  });
});

describe('readParams', () => {
  it('reads form parameters and ignores unknown ones', async () => {
    const result = await readParams(paramsSourceOf(post('code=abc&state=x&code_verifier=')), [
      'code',
      'code_verifier',
    ]);
    expect(result).toEqual({ ok: true, params: new Map([['code', 'abc']]) });
  });

  it('reads JSON bodies too', async () => {
    const result = await readParams(
      paramsSourceOf(
        post('{"code":"abc","other":1}', { 'content-type': 'application/json; charset=utf-8' }),
      ),
      ['code'],
    );
    expect(result).toEqual({ ok: true, params: new Map([['code', 'abc']]) });
  });

  it.each([
    ['code=a&code=b', 'code must be sent only once'],
    [`code=${'a'.repeat(2049)}`, 'code is too long (at most 2048 bytes)'],
    ['code=a%20b', 'code is malformed'],
    ['code=%FF', 'code is malformed'],
  ])('refuses %s', async (body, description) => {
    const result = await readParams(paramsSourceOf(post(body)), ['code']);
    expect(result).toEqual({
      ok: false,
      problem: { status: 400, error: 'invalid_request', description },
    });
  });

  it('refuses bodies that are not UTF-8, not JSON objects, or of another type', async () => {
    const cases: [Request, string][] = [
      [post(new Uint8Array([0x63, 0x3d, 0xff])), 'The request body is not valid UTF-8'],
      [
        post('{"code":', { 'content-type': 'application/json' }),
        'The request body is not valid JSON',
      ],
      [
        post('[1]', { 'content-type': 'application/json' }),
        'The JSON request body must be an object',
      ],
      [post('{"code":1}', { 'content-type': 'application/json' }), 'code must be a string'],
      [
        post('code=a', { 'content-type': 'text/plain' }),
        expect.stringContaining('Unsupported Content-Type'),
      ],
    ];
    for (const [request, description] of cases) {
      const result = await readParams(paramsSourceOf(request), ['code']);
      expect(result).toEqual({
        ok: false,
        problem: { status: 400, error: 'invalid_request', description },
      });
    }
  });

  it('refuses a JSON key sent twice at the top level, and only there', async () => {
    const json = { 'content-type': 'application/json' };
    const cases: [string, string | undefined][] = [
      ['{"code":"a","code":"b"}', 'code'],
      ['{ "code" : "a" , "x" : {"code":"c"}, "code":\n"b"}', 'code'],
      ['{"co\\u0064e":"a","code":"b"}', 'code'],
      ['{"code":"a","x":{"code":"b","code":"c"},"y":["code","code"]}', undefined],
      ['{"x":"\\"code\\":","code":"a","other":1,"other":2}', undefined],
    ];
    for (const [body, repeated] of cases) {
      const result = await readParams(paramsSourceOf(post(body, json)), ['code']);
      expect(result, body).toEqual(
        repeated === undefined
          ? { ok: true, params: new Map([['code', 'a']]) }
          : {
              ok: false,
              problem: {
                status: 400,
                error: 'invalid_request',
                description: `${repeated} must be sent only once`,
              },
            },
      );
    }
  });

  it('answers 413 for a body over 8 KiB', async () => {
    const result = await readParams(paramsSourceOf(post(`code=${'a'.repeat(9000)}`)), ['code']);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.status).toBe(413);
  });

  it('never quotes the body in a JSON error', async () => {
    const result = await readParams(
      paramsSourceOf(post('{"code":"SECRET-CODE"', { 'content-type': 'application/json' })),
      ['code'],
    );
    expect(JSON.stringify(result)).not.toContain('SECRET-CODE');
  });
});
