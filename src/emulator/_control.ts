import type { Context, Hono, MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { readBoundedText } from './_body.js';
import { InvalidFaultError, parseFault } from './_faults.js';
import type { EmulatorState } from './_state.js';

/** Path prefix of the control API (real Spotify has none). */
export const CONTROL_PREFIX = '/__emulator';

/** Largest control API body. */
const MAX_CONTROL_BYTES = 64 * 1024;

const nonEmpty = (name: string) =>
  v.pipe(v.string(`${name} must be a string`), v.minLength(1, `${name} must not be empty`));

const RevokeSchema = v.strictObject({ refresh_token: nonEmpty('refresh_token') });
const ExpireSchema = v.strictObject({ access_token: nonEmpty('access_token') });
const ClockSchema = v.strictObject({
  advance: v.optional(v.unknown()),
  set: v.optional(v.unknown()),
});
const AllowlistSchema = v.strictObject({
  user: nonEmpty('user'),
  allowlisted: v.boolean('allowlisted must be a boolean'),
});
const ProductSchema = v.strictObject({
  user: nonEmpty('user'),
  product: v.picklist(['premium', 'free', 'open'], 'product must be "premium", "free" or "open"'),
});
const ExtendedQuotaSchema = v.strictObject({
  client_id: nonEmpty('client_id'),
  extended_quota: v.boolean('extended_quota must be a boolean'),
});
const ActiveDeviceSchema = v.strictObject({
  user: nonEmpty('user'),
  device_id: v.nullable(nonEmpty('device_id'), 'device_id must be a device id or null'),
});

/** Thrown by the emulator's control methods for input a test got wrong. */
export class InvalidControlInputError extends TypeError {
  override readonly name = 'InvalidControlInputError';
}

function badRequest(c: Context, message: string): Response {
  return c.json({ error: 'invalid_request', error_description: message }, 400);
}

async function readJson(c: Context): Promise<{ value: unknown } | Response> {
  const text = await readBoundedText(c.req.raw, MAX_CONTROL_BYTES);
  if (text === undefined)
    return c.json(
      {
        error: 'invalid_request',
        error_description: `The body must be at most ${MAX_CONTROL_BYTES} bytes`,
      },
      413,
      { Connection: 'close' },
    );
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return badRequest(c, 'The body must be JSON');
  }
}

async function readBody<T>(
  c: Context,
  schema: v.GenericSchema<unknown, T>,
): Promise<{ value: T } | Response> {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const result = v.safeParse(schema, body.value);
  if (!result.success) return badRequest(c, result.issues.map((issue) => issue.message).join('; '));
  return { value: result.output };
}

/** Checks a clock request: exactly one of `advance` (seconds) and `set` (ms), within bounds. */
export function clockTarget(
  state: EmulatorState,
  input: { advance?: unknown; set?: unknown },
): { advanceSeconds: number } | { error: string } {
  if ((input.advance === undefined) === (input.set === undefined))
    return { error: 'give exactly one of advance (seconds) and set (ms since the epoch)' };
  if (input.advance !== undefined) {
    const error = state.checkAdvance(input.advance);
    return error === undefined ? { advanceSeconds: input.advance as number } : { error };
  }
  const error = state.checkSet(input.set);
  return error === undefined
    ? { advanceSeconds: ((input.set as number) - state.now()) / 1000 }
    : { error };
}

/**
 * Host names the control API answers besides the loopback ones: the interface the emulator
 * was told to listen on, when that is a name or address rather than a wildcard.
 */
export type ControlHosts = ReadonlySet<string>;

/** `localhost` (and `*.localhost`), `127.0.0.0/8` and `[::1]`, as a URL's `hostname` shows them. */
function isLoopbackName(hostname: string): boolean {
  const host = hostname.replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** The `hostname` a URL addressed to the listening `host` has; `undefined` for a wildcard. */
export function listeningHostname(host: string): string | undefined {
  if (host === '' || host === '0.0.0.0' || host === '::' || host === '[::]') return undefined;
  try {
    return new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}`)
      .hostname;
  } catch {
    return undefined;
  }
}

const READS = new Set(['GET', 'HEAD']);

/**
 * The control API is a tool for the developer's own tests, so a web page the developer
 * visits must not drive it. A page can send a cross-site POST without asking (a "simple"
 * request: `text/plain`, a form), so every write must say `Content-Type: application/json`,
 * which a page can only send after a CORS preflight the control API never grants. A page can
 * also reach 127.0.0.1 under its own name by DNS rebinding, so a request must be addressed to
 * a loopback name or the host the emulator listens on.
 */
function guardControl(hosts: ControlHosts): MiddlewareHandler {
  return async (c, next) => {
    const { hostname } = new URL(c.req.url);
    if (!isLoopbackName(hostname) && !hosts.has(hostname)) {
      return c.json(
        {
          error: 'host_not_allowed',
          error_description: `The control API answers requests addressed to 127.0.0.1, localhost, [::1] or the host the emulator listens on, not to "${hostname}" (a web page could otherwise reach it through DNS rebinding)`,
        },
        403,
      );
    }
    const type = c.req.header('Content-Type')?.split(';', 1)[0]?.trim().toLowerCase();
    if (!READS.has(c.req.method) && type !== 'application/json') {
      return c.json(
        {
          error: 'unsupported_media_type',
          error_description:
            'Control API writes need Content-Type: application/json (also with an empty body), so that a web page cannot send them',
        },
        415,
      );
    }
    return next();
  };
}

/** Runs a control method, turning its `InvalidControlInputError` into a 400. */
function attempt(c: Context, run: () => unknown): Response {
  try {
    return c.json(run() as object);
  } catch (error) {
    if (error instanceof InvalidControlInputError) return badRequest(c, error.message);
    throw error;
  }
}

/** The methods behind the Web API control endpoints (the emulator object exposes them too). */
export interface WebApiControls {
  setAllowlisted(userId: string, allowlisted: boolean): void;
  setProduct(userId: string, product: 'premium' | 'free' | 'open'): void;
  setActiveDevice(userId: string, deviceId: string | null): void;
  setExtendedQuota(clientId: string, extendedQuota: boolean): void;
}

/** The `/__emulator/*` control API (JSON in and out). */
export function registerControl(
  app: Hono,
  state: EmulatorState,
  controls: WebApiControls,
  hosts: ControlHosts,
): void {
  const guard = guardControl(hosts);
  app.use(CONTROL_PREFIX, guard);
  app.use(`${CONTROL_PREFIX}/*`, guard);
  app.get(`${CONTROL_PREFIX}/stats`, (c) => c.json(state.stats()));

  app.post(`${CONTROL_PREFIX}/revoke`, async (c) => {
    const body = await readBody(c, RevokeSchema);
    if (body instanceof Response) return body;
    return c.json({ revoked: state.revokeRefreshToken(body.value.refresh_token) });
  });

  app.post(`${CONTROL_PREFIX}/expire`, async (c) => {
    const body = await readBody(c, ExpireSchema);
    if (body instanceof Response) return body;
    return c.json({ expired: state.expireAccessToken(body.value.access_token) });
  });

  app.get(`${CONTROL_PREFIX}/clock`, (c) => c.json({ now: state.now() }));
  app.post(`${CONTROL_PREFIX}/clock`, async (c) => {
    const body = await readBody(c, ClockSchema);
    if (body instanceof Response) return body;
    const target = clockTarget(state, body.value);
    if ('error' in target) return badRequest(c, target.error);
    return c.json({ now: state.advanceClock(target.advanceSeconds) });
  });

  app.post(`${CONTROL_PREFIX}/allowlist`, async (c) => {
    const body = await readBody(c, AllowlistSchema);
    if (body instanceof Response) return body;
    const { user, allowlisted } = body.value;
    return attempt(c, () => {
      controls.setAllowlisted(user, allowlisted);
      return { user, allowlisted };
    });
  });

  app.post(`${CONTROL_PREFIX}/product`, async (c) => {
    const body = await readBody(c, ProductSchema);
    if (body instanceof Response) return body;
    const { user, product } = body.value;
    return attempt(c, () => {
      controls.setProduct(user, product);
      return { user, product };
    });
  });

  app.post(`${CONTROL_PREFIX}/active-device`, async (c) => {
    const body = await readBody(c, ActiveDeviceSchema);
    if (body instanceof Response) return body;
    const { user, device_id } = body.value;
    return attempt(c, () => {
      controls.setActiveDevice(user, device_id);
      return { user, device_id };
    });
  });

  app.post(`${CONTROL_PREFIX}/extended-quota`, async (c) => {
    const body = await readBody(c, ExtendedQuotaSchema);
    if (body instanceof Response) return body;
    const { client_id, extended_quota } = body.value;
    return attempt(c, () => {
      controls.setExtendedQuota(client_id, extended_quota);
      return { client_id, extended_quota };
    });
  });

  app.get(`${CONTROL_PREFIX}/faults`, (c) => c.json({ faults: state.faults.list() }));
  app.post(`${CONTROL_PREFIX}/faults`, async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    try {
      return c.json(state.faults.add(parseFault(body.value)), 201);
    } catch (error) {
      if (error instanceof InvalidFaultError) return badRequest(c, error.message);
      throw error;
    }
  });
  app.delete(`${CONTROL_PREFIX}/faults`, (c) => c.json({ cleared: state.faults.clear() }));

  app.post(`${CONTROL_PREFIX}/reset`, (c) => {
    state.reset();
    return c.json({ reset: true });
  });

  app.all(`${CONTROL_PREFIX}/*`, (c) =>
    c.json({ error: 'not_found', error_description: 'No such control endpoint' }, 404),
  );
}
