/**
 * A valid request followed on the same connection by bytes Node cannot parse: the valid
 * request's answer (with the tokens Spotify just issued for its code) must reach the
 * client before the 400 that closes the connection, on both request paths of the Node
 * adapter (the direct token routes and the fetch handler). Raw `node:net` sockets, the
 * emulator as Spotify.
 */
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';
import { type RunningTokenServer, serveTokenServer } from '../../src/server/node/index.js';

const REDIRECT = 'spotify-session-demo://callback';
const emulator = createEmulator({ autoApprove: true });
let upstream: EmulatorServer;
let running: RunningTokenServer;

beforeAll(async () => {
  upstream = await emulator.listen();
  running = await serveTokenServer({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUris: [REDIRECT],
    keyring: await Keyring.parse(Keyring.generateKeyString()),
    accountsUrl: upstream.url,
    port: 0,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await running?.close();
  await upstream?.close();
});

async function getCode(): Promise<string> {
  const url = new URL('/authorize', upstream.url);
  url.search = new URLSearchParams({
    client_id: DEMO_APP.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'streaming',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  return new URL(response.headers.get('location') as string).searchParams.get('code') as string;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The answers in `text`, one after another (each framed by its Content-Length). */
function answersIn(text: string): Answer[] {
  const answers: Answer[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const split = rest.indexOf('\r\n\r\n');
    if (split < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, split).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    answers.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: rest.slice(split + 4, split + 4 + length),
    });
    rest = rest.slice(split + 4 + length);
  }
  return answers;
}

/** Writes `bytes` in one go and reads until the server closes the connection. */
function exchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(running.port, '127.0.0.1');
    let received = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; got ${JSON.stringify(received)}`));
    }, 10_000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(received);
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

function swapRequest(host: string, code: string): string {
  const body = `code=${code}`;
  return (
    `POST /swap HTTP/1.1\r\nHost: ${host}\r\n` +
    'Content-Type: application/x-www-form-urlencoded\r\n' +
    `Content-Length: ${body.length}\r\n\r\n${body}`
  );
}

describe('a valid /swap then garbage on one connection', () => {
  // `localhost` takes the direct token routes; an upper-case Host takes the fetch handler.
  const paths: Array<[string, string]> = [
    ['the direct token routes', 'localhost'],
    ['the fetch handler', 'LOCALHOST'],
  ];
  const garbage = [
    ['an invalid request line', 'GARBAGE\r\n\r\n'],
    ['binary bytes', '\u0000\u0001\u0002\r\n\r\n'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nbroken\r\n\r\n'],
    // The broken request is itself in flight (its handler waits for the body): the 400 is
    // not held back for it.
    [
      'a request with a broken chunked body',
      'POST /refresh HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nrefresh_token=x\r\n',
    ],
  ];
  for (const [path, host] of paths) {
    for (const [kind, bytes] of garbage) {
      it(`${path}, ${kind}: the 200 with the tokens, then a JSON 400, then close`, async () => {
        const exchanged = emulator.stats().grants.authorization_code ?? 0;
        const text = await exchange(swapRequest(host, await getCode()) + bytes);
        const answers = answersIn(text);
        expect(answers.map((answer) => answer.status)).toEqual([200, 400]);
        const [swapped, refused] = answers as [Answer, Answer];
        const tokens = JSON.parse(swapped.body) as {
          access_token?: string;
          refresh_token?: string;
        };
        expect(tokens.access_token).toEqual(expect.any(String));
        expect(tokens.refresh_token).toMatch(/^v1\./);
        expect(refused.headers['content-type']).toBe('application/json');
        expect(refused.headers.connection).toBe('close');
        expect(JSON.parse(refused.body)).toEqual({
          error: 'invalid_request',
          error_description: 'Malformed HTTP request',
        });
        expect(emulator.stats().grants.authorization_code).toBe(exchanged + 1);
      });
    }
  }

  it('two valid requests, then garbage: both answers, in order, then the 400', async () => {
    const text = await exchange(
      swapRequest('localhost', await getCode()) +
        swapRequest('LOCALHOST', await getCode()) +
        'GARBAGE\r\n\r\n',
    );
    expect(answersIn(text).map((answer) => answer.status)).toEqual([200, 200, 400]);
  });
});
