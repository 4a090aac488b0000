/**
 * Which address a request comes from, for the per-IP rate limit. Web-standard only: the
 * Node socket is read from the bindings @hono/node-server passes as `env`.
 */

const IP_PATTERN = /^[0-9A-Fa-f:.]{2,45}$/;

function normalise(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  let value = address.trim();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  if (!IP_PATTERN.test(value)) return undefined;
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(value)) value = value.slice(7);
  return value.toLowerCase();
}

/** The socket's peer address from the runtime's bindings, when there is one. */
function socketAddress(env: unknown): string | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const bindings = env as {
    incoming?: { socket?: { remoteAddress?: unknown } };
    clientIp?: unknown;
  };
  const remote = bindings.incoming?.socket?.remoteAddress;
  if (typeof remote === 'string') return remote;
  if (typeof bindings.clientIp === 'string') return bindings.clientIp;
  return undefined;
}

/**
 * The client's address. With `trustProxy` = N > 0 proxies in front, the N-th entry of
 * `X-Forwarded-For` counted from the right is the client (each proxy appends the address
 * it saw, so those entries cannot be forged by the client; the left-most ones can).
 * With fewer entries than hops, the left-most one is used. Unreadable entries fall back
 * to the socket address; no address at all gives `'unknown'` (one shared bucket).
 */
export function clientAddress(
  request: Request,
  env: unknown,
  trustProxy: number,
  custom?: (request: Request, env: unknown) => string | undefined,
): string {
  const direct = normalise(custom?.(request, env) ?? socketAddress(env));
  if (trustProxy > 0) {
    const header = request.headers.get('x-forwarded-for');
    if (header !== null && header.length <= 2048) {
      const hops = header
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
      if (hops.length > 0) {
        const index = Math.max(0, hops.length - trustProxy);
        const forwarded = normalise(hops[index]);
        if (forwarded !== undefined) return forwarded;
      }
    }
  }
  return direct ?? 'unknown';
}
