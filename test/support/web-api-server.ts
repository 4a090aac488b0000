/**
 * A scripted Web API on a real port (127.0.0.1, port 0) for the client's unit
 * tests: each request is recorded and answered by the test's handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path and query, as sent (`/v1/me?market=SE`). */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  /** Destroy the connection without answering. */
  drop?: boolean;
  /** Milliseconds to wait before answering. */
  delay?: number;
}

export interface TestServer {
  /** `http://127.0.0.1:PORT/v1` */
  apiUrl: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startTestServer(
  handler: (request: SeenRequest, index: number) => Answer | Promise<Answer>,
): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(request);
    const answer = await handler(request, seen.length - 1);
    if (answer.delay !== undefined) await new Promise((r) => setTimeout(r, answer.delay));
    if (answer.drop === true) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = { ...answer.headers };
    let body = '';
    if (typeof answer.body === 'string') body = answer.body;
    else if (answer.body !== undefined) {
      body = JSON.stringify(answer.body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    res.writeHead(answer.status ?? 200, headers);
    res.end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
