/**
 * Which client a request comes from, for the per-IP rate limit. Web-standard only: the
 * runtime adapter hands the peer address over as `env.clientIp` (the Node adapter reads its
 * socket; Workers, Deno and Bun pass theirs or use the `clientIp` option).
 *
 * Every address is reduced to ONE key per client, so that a client cannot multiply its
 * budget by writing the same address differently: IPv6 in its compressed lower-case form
 * (RFC 5952 §4), a port (`1.2.3.4:5`, `[::1]:5`) and a zone (`fe80::1%eth0`) dropped, an
 * IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, RFC 4291 §2.5.5.2) read as the IPv4 address,
 * and IPv6 grouped by its /64 prefix — the smallest block a provider hands one subscriber
 * (RFC 6177), in which a client may use any address it likes. Text that is not an address
 * (`....`, `1.2.3.4.5.6`, the unspecified `::` / `0.0.0.0`) is `'unknown'`.
 */

/** Key of every request whose address cannot be read (one shared bucket). */
export const UNKNOWN_CLIENT = 'unknown';

/** Four decimal octets, no leading zeros (`010` would be octal to some parsers). */
function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

/** Eight 16-bit groups (RFC 4291 §2.2: `::` once, an IPv4 tail allowed). */
function parseIPv6(text: string): number[] | undefined {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const pieces = half.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (piece.includes('.')) {
        // Only the last piece may be a dotted IPv4 address (two groups).
        if (index !== pieces.length - 1) return undefined;
        const v4 = parseIPv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(((v4[0] as number) << 8) | (v4[1] as number));
        groups.push(((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(piece)) return undefined;
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0] as string);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  // A dotted tail after '::' in the head half is not allowed (it must end the address).
  if ((halves[0] as string).includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65_535;
}

/** Splits off a port or brackets: `1.2.3.4:80`, `[2001:db8::1]:80`, `[::1]`. */
function stripPort(text: string): string | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const rest = text.slice(close + 1);
    if (rest !== '' && !isPort(rest.slice(1))) return undefined;
    return text.slice(1, close);
  }
  const colon = text.indexOf(':');
  // Exactly one colon: IPv4 with a port (an IPv6 address has at least two).
  if (colon >= 0 && colon === text.lastIndexOf(':')) {
    if (!isPort(text.slice(colon + 1))) return undefined;
    return text.slice(0, colon);
  }
  return text;
}

/**
 * The rate-limit key of one address as written by a socket, a proxy or a runtime:
 * `a.b.c.d` for IPv4 (also when mapped into IPv6), `xxxx:xxxx:xxxx:xxxx::/64` for IPv6,
 * `undefined` for anything that is not one usable address.
 */
export function clientKey(address: string | undefined): string | undefined {
  if (typeof address !== 'string' || address.length > 64) return undefined;
  // Most requests come from addresses seen just before: parse each one once.
  if (recentKeys.has(address)) return recentKeys.get(address);
  const key = parseClientKey(address);
  if (recentKeys.size >= RECENT_KEYS_MAX) recentKeys.clear();
  recentKeys.set(address, key);
  return key;
}

/** Addresses parsed lately and their keys; emptied when full, so it stays small. */
const recentKeys = new Map<string, string | undefined>();
const RECENT_KEYS_MAX = 4096;

function parseClientKey(address: string): string | undefined {
  const host = stripPort(address.trim());
  if (host === undefined || host === '') return undefined;
  const unzoned = host.includes('%') ? host.slice(0, host.indexOf('%')) : host;
  const v4 = parseIPv4(unzoned);
  if (v4 !== undefined) return v4.every((octet) => octet === 0) ? undefined : v4.join('.');
  const v6 = parseIPv6(unzoned);
  if (v6 === undefined || v6.every((group) => group === 0)) return undefined;
  const mapped = v6.slice(0, 5).every((group) => group === 0) && v6[5] === 0xffff;
  if (mapped) {
    const [high, low] = [v6[6] as number, v6[7] as number];
    const octets = [high >> 8, high & 0xff, low >> 8, low & 0xff];
    return octets.every((octet) => octet === 0) ? undefined : octets.join('.');
  }
  return `${formatIPv6([...v6.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** True for an IPv4 or IPv6 address literal (IPv6 optionally in brackets), e.g. a `HOST`. */
export function isIpAddress(text: string): boolean {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return parseIPv4(bare) !== undefined || parseIPv6(bare) !== undefined;
}

/** The peer address the runtime adapter passed as `env.clientIp`, when there is one. */
function adapterAddress(env: unknown): string | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const clientIp = (env as { clientIp?: unknown }).clientIp;
  return typeof clientIp === 'string' ? clientIp : undefined;
}

/**
 * The client's rate-limit key. With `trustProxy` = N > 0 proxies in front, the N-th entry of
 * `X-Forwarded-For` counted from the right is the client (each proxy appends the address
 * it saw, so those entries cannot be forged by the client; the left-most ones can).
 * With fewer entries than hops, the left-most one is used. Unreadable entries fall back
 * to the peer address; no address at all gives `'unknown'` (one shared bucket).
 */
export function clientAddress(
  request: Request,
  env: unknown,
  trustProxy: number,
  custom?: (request: Request, env: unknown) => string | undefined,
): string {
  return clientAddressOf(
    custom?.(request, env) ?? adapterAddress(env),
    trustProxy > 0 ? (request.headers.get('x-forwarded-for') ?? undefined) : undefined,
    trustProxy,
  );
}

/**
 * {@link clientAddress} from the peer address and the `X-Forwarded-For` header (the Node
 * adapter reads both from `node:http`'s request).
 */
export function clientAddressOf(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: number,
): string {
  const direct = clientKey(peer);
  if (trustProxy > 0) {
    const header = forwardedFor;
    if (header !== undefined && header.length <= 2048) {
      const hops = header
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
      if (hops.length > 0) {
        const index = Math.max(0, hops.length - trustProxy);
        const forwarded = clientKey(hops[index]);
        if (forwarded !== undefined) return forwarded;
      }
    }
  }
  return direct ?? UNKNOWN_CLIENT;
}
