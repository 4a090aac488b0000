import { describe, expect, it } from 'vitest';
import { hostRoute } from './_direct-routes.js';

describe('hostRoute: the Node adapter’s one Host rule', () => {
  it.each([
    ['127.0.0.1:3000', '1.1', 'direct'],
    ['tokens.example.com', '1.1', 'direct'],
    ['localhost:8080', '1.0', 'direct'],
    // Anything @hono/node-server would parse as a URL goes the fetch handler's way.
    ['Tokens.Example.com', '1.1', 'fetch'],
    ['127.0.0.1:80', '1.1', 'fetch'],
    ['[::1]:3000', '1.1', 'fetch'],
    ['', '1.1', 'fetch'],
    [undefined, '1.0', 'fetch'],
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is malformed.
    [undefined, '1.1', 'malformed'],
  ] as const)('Host %s over HTTP/%s → %s', (host, version, route) => {
    expect(hostRoute(host, version)).toBe(route);
  });
});
