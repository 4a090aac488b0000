import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress, clientKey } from './_client-ip.js';

function request(xff?: string) {
  return new Request('http://server.test/swap', {
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  });
}
/** What the Node adapter passes: the socket's peer address as `env.clientIp`. */
const peer = (address: string) => ({ clientIp: address });

describe('clientAddress', () => {
  it('uses the peer address and ignores X-Forwarded-For by default', () => {
    expect(clientAddress(request('6.6.6.6'), peer('10.0.0.1'), 0)).toBe('10.0.0.1');
  });

  it('unwraps IPv4-mapped IPv6 addresses', () => {
    expect(clientAddress(request(), peer('::ffff:127.0.0.1'), 0)).toBe('127.0.0.1');
    expect(clientAddress(request(), peer('::FFFF:7f00:1'), 0)).toBe('127.0.0.1');
  });

  it('believes the right-most entry behind one proxy, never the client-written left ones', () => {
    expect(clientAddress(request('6.6.6.6, 203.0.113.7'), peer('10.0.0.1'), 1)).toBe('203.0.113.7');
  });

  it('counts hops from the right', () => {
    expect(clientAddress(request('6.6.6.6, 203.0.113.7, 10.0.0.9'), peer('10.0.0.1'), 2)).toBe(
      '203.0.113.7',
    );
    expect(clientAddress(request('203.0.113.7'), peer('10.0.0.1'), 3)).toBe('203.0.113.7');
  });

  it('falls back to the peer for garbage entries', () => {
    for (const junk of ['<script>', '....', '::', '1.2.3.4.5.6', '0.0.0.0', '1.2.3.256']) {
      expect(clientAddress(request(junk), peer('10.0.0.1'), 1)).toBe('10.0.0.1');
    }
  });

  it('reads env.clientIp (Workers, Deno, Bun, the Node adapter) and a custom resolver', () => {
    expect(clientAddress(request(), { clientIp: '198.51.100.1' }, 0)).toBe('198.51.100.1');
    expect(clientAddress(request(), undefined, 0, () => '2001:DB8::1')).toBe('2001:db8::/64');
    expect(clientAddress(request(), undefined, 0)).toBe('unknown');
  });

  it('never reads a Node socket itself (the Node adapter does, in node.ts)', () => {
    const nodeBindings = { incoming: { socket: { remoteAddress: '10.0.0.1' } } };
    expect(clientAddress(request(), nodeBindings, 0)).toBe('unknown');
  });

  it('one key per client: ports, brackets, case and /64 neighbours do not multiply buckets', () => {
    const sameV4 = ['203.0.113.7', '203.0.113.7:443', '::ffff:203.0.113.7', '[::ffff:cb00:7107]:1'];
    for (const text of sameV4) expect(clientKey(text)).toBe('203.0.113.7');
    const sameV6 = [
      '2001:db8:1:2::1',
      '2001:DB8:1:2:ffff:ffff:ffff:ffff',
      '[2001:db8:1:2::abcd]:8080',
      '2001:0db8:0001:0002:0000:0000:0000:0009',
      'fe80::1%eth0',
    ];
    expect(new Set(sameV6.slice(0, 4).map(clientKey))).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(clientKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });

  it('refuses junk as unknown', () => {
    for (const junk of [
      '....',
      '::',
      '0.0.0.0',
      '1.2.3.4.5.6',
      '1.2.3',
      '01.2.3.4',
      '1.2.3.4:99999',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '[::1',
      '::1.2.3.4:5',
      'abc',
      '',
      ':',
      'localhost',
    ]) {
      expect(clientAddress(request(), peer(junk), 0), junk).toBe('unknown');
    }
  });
});

const group = fc.integer({ min: 0, max: 0xffff });
const ipv6Groups = fc
  .array(group, { minLength: 8, maxLength: 8 })
  .filter((groups) => groups.some((g) => g !== 0))
  // Leave IPv4-mapped addresses to their own property.
  .filter((groups) => !(groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff));
const ipv4Octets = fc
  .array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })
  .filter((octets) => octets.some((o) => o !== 0));

/** Every way a socket, a proxy or an attacker may write one IPv6 address. */
function spellings(groups: number[], port: number, upper: boolean): string[] {
  const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
  const short = groups.map((g) => g.toString(16)).join(':');
  // Compress the first zero group run, whatever its length (legal, not canonical).
  const zero = groups.indexOf(0);
  let compressed = short;
  if (zero >= 0) {
    let end = zero;
    while (end < 8 && groups[end] === 0) end++;
    const left = groups.slice(0, zero).map((g) => g.toString(16));
    const right = groups.slice(end).map((g) => g.toString(16));
    compressed = `${left.join(':')}::${right.join(':')}`;
  }
  const forms = [full, short, compressed, `[${compressed}]`, `[${full}]:${port}`];
  return upper ? forms.map((form) => form.toUpperCase()) : forms;
}

describe('clientKey (properties)', () => {
  it('every spelling of one IPv6 address gives one key, the compressed /64', () => {
    fc.assert(
      fc.property(ipv6Groups, fc.integer({ min: 0, max: 65_535 }), fc.boolean(), (g, port, up) => {
        const keys = new Set(spellings(g, port, up).map(clientKey));
        expect(keys.size).toBe(1);
        const [key] = keys;
        expect(key).toMatch(/^[0-9a-f:]+\/64$/);
        expect(key).not.toMatch(/(^|:)0[0-9a-f]/);
        // The key is stable: the prefix read back gives itself.
        expect(clientKey((key as string).slice(0, -3))).toBe(key);
      }),
    );
  });

  it('any two addresses in one /64 share a key; different /64s do not', () => {
    fc.assert(
      fc.property(ipv6Groups, ipv6Groups, (a, b) => {
        const sameNet = [...a.slice(0, 4), ...b.slice(4)];
        fc.pre(sameNet.some((x) => x !== 0));
        fc.pre(!(sameNet.slice(0, 5).every((x) => x === 0) && sameNet[5] === 0xffff));
        const text = (groups: number[]) => groups.map((x) => x.toString(16)).join(':');
        expect(clientKey(text(sameNet))).toBe(clientKey(text(a)));
        const samePrefix = a.slice(0, 4).every((x, i) => x === b[i]);
        const prefixOnlyZero = (x: number[]) => x.slice(0, 5).every((y) => y === 0);
        fc.pre(!prefixOnlyZero(a) && !prefixOnlyZero(b));
        expect(clientKey(text(a)) === clientKey(text(b))).toBe(samePrefix);
      }),
    );
  });

  it('IPv4, with or without a port, mapped into IPv6 or not, gives the dotted address', () => {
    fc.assert(
      fc.property(ipv4Octets, fc.integer({ min: 0, max: 65_535 }), (octets, port) => {
        const dotted = octets.join('.');
        const hex = `${((octets[0] as number) * 256 + (octets[1] as number)).toString(16)}:${(
          (octets[2] as number) * 256 + (octets[3] as number)
        ).toString(16)}`;
        for (const form of [
          dotted,
          `${dotted}:${port}`,
          `::ffff:${dotted}`,
          `::FFFF:${hex}`,
          `[::ffff:${dotted}]:${port}`,
          `0:0:0:0:0:ffff:${dotted}`,
        ]) {
          expect(clientKey(form), form).toBe(dotted);
        }
      }),
    );
  });

  it('arbitrary text is either refused or one of the two key shapes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-fA-F:.[\]%]{0,50}$/)), (text) => {
        const key = clientKey(text);
        if (key === undefined) return;
        expect(key).toMatch(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+\/64)$/);
      }),
    );
  });
});
