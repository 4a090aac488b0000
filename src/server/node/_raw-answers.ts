/**
 * What Node answers by itself, before any handler, made JSON with `no-store` like every other
 * answer of the token server (the SDKs parse every answer): see {@link installRawAnswers}.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { COMMON_HEADERS } from '../_responses.js';

/** A complete HTTP/1.1 answer in {@link COMMON_HEADERS}, for sockets the handler never saw. */
function rawJsonAnswer(status: number, reason: string, error: string, description: string) {
  const body = JSON.stringify({ error, error_description: description });
  const headers = Object.entries(COMMON_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
  return (
    `HTTP/1.1 ${status} ${reason}\r\n${headers.join('')}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Node's socket of an HTTP connection: the answer being written on it, if any. */
type HttpSocket = Duplex & { _httpMessage?: ServerResponse | null };

/**
 * Runs `then` once the answers to every request Node read whole on `socket` have been
 * written (Node writes pipelined answers one after another, handing the socket to the next
 * as each finishes), or at once when there are none. A request whose body never completed
 * is the one the error is about (a broken chunked body, a timeout): nothing waits for it.
 */
function afterPendingAnswers(socket: HttpSocket, then: () => void): void {
  const pending = socket._httpMessage;
  if (
    pending === undefined ||
    pending === null ||
    pending.writableFinished ||
    !pending.req.complete
  ) {
    then();
    return;
  }
  let settled = false;
  const next = () => {
    if (settled || socket.destroyed) return;
    settled = true;
    afterPendingAnswers(socket, then);
  };
  pending.once('finish', next);
  pending.once('close', next);
}

/**
 * What Node answers by itself, before any handler, made JSON with `no-store` like every
 * other answer (the SDKs parse every answer): unparsable requests and timeouts
 * (`clientError`), `Expect` values other than `100-continue` (`checkExpectation`) and
 * `CONNECT` (`connect`).
 *
 * A request that Node read whole before the bytes it cannot parse (pipelined on one
 * connection) is being handled already: its code may be spent at Spotify. Its answer
 * goes out first, then the error, then the connection closes; on both request paths,
 * since both answer through this server's sockets.
 */
export function installRawAnswers(server: Server): void {
  /** Sockets whose error answer is written or waiting: Node reports each bad byte again. */
  const refusing = new WeakSet<Duplex>();
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (refusing.has(socket)) return;
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    refusing.add(socket);
    let answer: string;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer = rawJsonAnswer(408, 'Request Timeout', 'invalid_request', 'Request took too long');
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      answer = rawJsonAnswer(
        431,
        'Request Header Fields Too Large',
        'invalid_request',
        'Request headers are too large',
      );
    } else {
      answer = rawJsonAnswer(400, 'Bad Request', 'invalid_request', 'Malformed HTTP request');
    }
    afterPendingAnswers(socket, () => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      socket.end(answer);
      // A peer that stops reading must not keep the socket: it is closed either way.
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
  });
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify({
      error: 'invalid_request',
      error_description: 'Unsupported Expect header (only 100-continue)',
    });
    response.writeHead(417, {
      ...COMMON_HEADERS,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    });
    response.end(body);
  });
  // A request pipelined past maxRequestsPerSocket: Node would answer an empty 503 next.
  server.on('dropRequest', (_request: IncomingMessage, socket: Duplex) => {
    if (!socket.writable) return;
    socket.end(
      rawJsonAnswer(
        503,
        'Service Unavailable',
        'temporarily_unavailable',
        'Too many requests on one connection: open a new one',
      ),
    );
  });
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    socket.end(
      rawJsonAnswer(405, 'Method Not Allowed', 'invalid_request', 'CONNECT is not supported'),
    );
  });
}
