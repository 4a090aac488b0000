import type { Context, Hono } from 'hono';
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
}

/** The `/__emulator/*` control API (JSON in and out). */
export function registerControl(app: Hono, state: EmulatorState, controls: WebApiControls): void {
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
