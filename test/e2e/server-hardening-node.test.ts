/**
 * The Node listener against hostile or broken clients, with raw `node:net` sockets:
 * requests Node or @hono/node-server refuse before the handler still get JSON with
 * `no-store`; slow clients are cut off with a 408 JSON; idle and over-used keep-alive
 * connections are closed; concurrent connections are capped; the socket address reaches
 * the neutral handler through the Node adapter; and close() drains before it stops
 * accepting.
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/server/keyring.js';
import {
  type RunningTokenServer,
  type ServeTokenServerOptions,
  serveTokenServer,
} from '../../src/server/node/index.js';

const keyring = await Keyring.parse(Keyring.generateKeyString());

async function start(
  extra: Partial<ServeTokenServerOptions> = {},
): Promise<{ running: RunningTokenServer; logs: () => string }> {
  let logs = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      logs += chunk.toString();
      callback();
    },
  });
  const running = await serveTokenServer({
    clientId: 'client',
    clientSecret: 'secret',
    redirectUris: ['myapp://callback'],
    keyring,
    accountsUrl: 'http://127.0.0.1:9',
    port: 0,
    logger: pino({ level: 'info' }, stream),
    ...extra,
  });
  return { running, logs: () => logs };
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting until the server closed the socket. */
  closedAfter: number;
}

function parseAnswer(text: string, closedAfter: number): RawAnswer {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers,
    body: split < 0 ? '' : text.slice(split + 4),
    closedAfter,
  };
}

/**
 * Sends `chunks` (each after `gap` ms) on a fresh socket and collects everything until
 * the server closes it (or `limit` ms pass: then the socket is destroyed).
 */
function raw(
  port: number,
  chunks: readonly string[],
  { gap = 0, limit = 10_000 }: { gap?: number; limit?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let index = 0;
    let dripper: ReturnType<typeof setInterval> | undefined;
    const finish = () => {
      clearInterval(dripper);
      clearTimeout(guard);
      resolve(parseAnswer(received, performance.now() - started));
    };
    const guard = setTimeout(() => socket.destroy(), limit);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', finish);
    socket.on('connect', () => {
      if (gap === 0) {
        socket.write(chunks.join(''));
        return;
      }
      socket.write(chunks[index++] ?? '');
      dripper = setInterval(() => {
        if (index < chunks.length && !socket.destroyed) socket.write(chunks[index++] as string);
      }, gap);
    });
  });
}

function expectJsonError(answer: RawAnswer, status: number) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(answer.headers['cache-control']).toBe('no-store');
  const body = JSON.parse(answer.body) as { error?: unknown; error_description?: unknown };
  expect(typeof body.error).toBe('string');
  expect(typeof body.error_description).toBe('string');
}

describe('requests refused before the handler are answered JSON, no-store', () => {
  let running: RunningTokenServer;
  beforeAll(async () => {
    ({ running } = await start());
  });
  afterAll(() => running?.close());

  const cases: [string, string, number][] = [
    ['a bad Host', 'GET /healthz HTTP/1.1\r\nHost: exa mple\r\n\r\n', 400],
    ['no Host (HTTP/1.1)', 'GET /healthz HTTP/1.1\r\n\r\n', 400],
    ['a * target', 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n', 400],
    ['a backslash in the path', 'GET /swap\\..\\healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', 400],
    [
      'an unsupported Expect',
      'POST /swap HTTP/1.1\r\nHost: localhost\r\nExpect: something-else\r\nContent-Length: 0\r\n\r\n',
      417,
    ],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
    ['garbage', 'HELLO THERE\r\n\r\n', 400],
  ];
  for (const [what, request, status] of cases) {
    it(what, async () => {
      expectJsonError(await raw(running.port, [request]), status);
    });
  }

  it('a normal request on a raw socket still works (control)', async () => {
    const answer = await raw(running.port, [
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    ]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
  });
});

describe('slow and greedy clients', () => {
  let running: RunningTokenServer;
  let logs: () => string;
  beforeAll(async () => {
    ({ running, logs } = await start({
      headersTimeout: 1_000,
      requestTimeout: 1_500,
      keepAliveTimeout: 300,
      maxRequestsPerSocket: 2,
      maxConnections: 3,
    }));
  });
  afterAll(() => running?.close());

  it('headers dripped byte by byte: 408 JSON within the headers timeout', async () => {
    const request = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1234567890\r\n\r\n';
    const answer = await raw(running.port, [...request], { gap: 200 });
    expectJsonError(answer, 408);
    // 1 s timeout, checked every second: well under the 60 s Node allows by default.
    expect(answer.closedAfter).toBeLessThan(4_000);
  });

  it('a body dripped byte by byte: 408 JSON within the request timeout', async () => {
    const head =
      'POST /swap HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n';
    const answer = await raw(running.port, [head, ...'code=abcdefghijklmnopqrstuvwxyz'], {
      gap: 300,
    });
    expectJsonError(answer, 408);
    expect(answer.closedAfter).toBeLessThan(5_000);
  });

  it('an idle keep-alive connection is closed after keepAliveTimeout', async () => {
    const answer = await raw(running.port, ['GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    expect(answer.status).toBe(200);
    // Node adds up to a second to the timeout; its default would be 5 s.
    expect(answer.closedAfter).toBeLessThan(3_000);
  });

  it('a connection is closed after maxRequestsPerSocket requests', async () => {
    const one = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const answer = await raw(running.port, [one, one, one], { gap: 50 });
    const answers = answer.body.split('HTTP/1.1 ').slice(1);
    expect(answer.headers.connection).toBe('keep-alive');
    // The second answer closes the connection; a third request pipelined anyway is
    // refused, in JSON too.
    expect(answers[0]).toMatch(/^200 .*Connection: close/is);
    expect(answers.length).toBeLessThanOrEqual(2);
    if (answers[1] !== undefined) expectJsonError(parseAnswer(`HTTP/1.1 ${answers[1]}`, 0), 503);
  });

  it('caps concurrent connections: the one over maxConnections is closed unanswered', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const socket = connect(running.port, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        held.push(socket);
      }
      // Let the server register the three before the fourth arrives.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const answer = await raw(
        running.port,
        ['GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'],
        { limit: 3_000 },
      );
      expect(answer.status).toBe(0);
      expect(answer.closedAfter).toBeLessThan(2_000);
      expect(logs()).toContain('connection limit reached');
    } finally {
      for (const socket of held) socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await raw(running.port, [
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    ]);
    expect(after.status).toBe(200);
  });

  it('refuses listener settings that cannot work, naming the option', async () => {
    await expect(start({ maxConnections: 0 })).rejects.toThrow(/maxConnections/);
    await expect(start({ requestTimeout: -1 })).rejects.toThrow(/requestTimeout/);
    await expect(start({ headersTimeout: 5_000, requestTimeout: 1_000 })).rejects.toThrow(
      /headersTimeout/,
    );
  });
});

describe('the client address comes from the Node adapter', () => {
  it('per-IP limits apply to the socket address, with no "client IP unknown" warning', async () => {
    const { running, logs } = await start({ rateLimit: { ip: 2, token: 0, window: 60 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${running.url}/swap`, { method: 'POST' });
        statuses.push(response.status);
        await response.body?.cancel();
      }
      expect(statuses).toEqual([400, 400, 429]);
      expect(logs()).not.toContain('client IP unknown');
    } finally {
      await running.close();
    }
  });
});

describe('drain', () => {
  it('close(): /readyz answers 503 draining for drainDelay, then the listener closes', async () => {
    const { running } = await start({ drainDelay: 600, shutdownGracePeriod: 1_000 });
    const before = await fetch(`${running.url}/readyz`);
    expect(before.status).toBe(200);
    await before.body?.cancel();
    const started = performance.now();
    const closed = running.close();
    // Still accepting: the load balancer sees "draining" and takes the instance out.
    const during = await fetch(`${running.url}/readyz`, { headers: { Connection: 'close' } });
    expect(during.status).toBe(503);
    expect(((await during.json()) as { status: string }).status).toBe('draining');
    const healthz = await fetch(`${running.url}/healthz`, { headers: { Connection: 'close' } });
    expect(healthz.status).toBe(200);
    await healthz.body?.cancel();
    await closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  });
});
