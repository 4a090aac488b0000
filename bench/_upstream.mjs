/**
 * A fast stand-in for Spotify's token endpoint (bench only): answers `POST /api/token` with a
 * fixed token response in microseconds, so the bench measures the proxies, not the upstream.
 * `--rotate` adds a new refresh token to every answer (both proxies then seal it).
 * Prints `{"port":N}` on stdout once listening.
 */
import { createServer } from 'node:http';

const rotate = process.argv.includes('--rotate');
const accessToken = `BQD${'a'.repeat(180)}`;
let counter = 0;

const server = createServer((request, response) => {
  let size = 0;
  request.on('data', (chunk) => {
    size += chunk.length;
  });
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/api/token' || size === 0) {
      response.writeHead(404, { 'content-type': 'application/json', 'content-length': 2 });
      response.end('{}');
      return;
    }
    const body = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'user-read-private user-read-email',
      ...(rotate ? { refresh_token: `AQC${String(counter++).padStart(128, '0')}` } : {}),
    };
    const text = JSON.stringify(body);
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
