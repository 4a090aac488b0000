import { describe, expect, it } from 'vitest';
import { clientAddress } from './_client-ip.js';

function request(xff?: string) {
  return new Request('http://server.test/swap', {
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  });
}
const node = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

describe('clientAddress', () => {
  it('uses the socket address and ignores X-Forwarded-For by default', () => {
    expect(clientAddress(request('6.6.6.6'), node('10.0.0.1'), 0)).toBe('10.0.0.1');
  });

  it('unwraps IPv4-mapped IPv6 addresses', () => {
    expect(clientAddress(request(), node('::ffff:127.0.0.1'), 0)).toBe('127.0.0.1');
  });

  it('believes the right-most entry behind one proxy, never the client-written left ones', () => {
    expect(clientAddress(request('6.6.6.6, 203.0.113.7'), node('10.0.0.1'), 1)).toBe('203.0.113.7');
  });

  it('counts hops from the right', () => {
    expect(clientAddress(request('6.6.6.6, 203.0.113.7, 10.0.0.9'), node('10.0.0.1'), 2)).toBe(
      '203.0.113.7',
    );
    expect(clientAddress(request('203.0.113.7'), node('10.0.0.1'), 3)).toBe('203.0.113.7');
  });

  it('falls back to the socket for garbage entries', () => {
    expect(clientAddress(request('<script>'), node('10.0.0.1'), 1)).toBe('10.0.0.1');
  });

  it('reads env.clientIp (Workers, Deno, Bun) and a custom resolver', () => {
    expect(clientAddress(request(), { clientIp: '198.51.100.1' }, 0)).toBe('198.51.100.1');
    expect(clientAddress(request(), undefined, 0, () => '2001:DB8::1')).toBe('2001:db8::1');
    expect(clientAddress(request(), undefined, 0)).toBe('unknown');
  });
});
