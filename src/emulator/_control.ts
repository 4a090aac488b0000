import type { Context, Hono } from 'hono';
import * as v from 'valibot';
import { InvalidFaultError, parseFault } from './_faults.js';
import type { EmulatorState } from './_state.js';

/** Path prefix of the control API (real Spotify has none). */
export const CONTROL_PREFIX = '/__emulator';

const RevokeSchema = v.strictObject({
  refresh_token: v.pipe(
    v.string('refresh_token must be a string'),
    v.minLength(1, 'refresh_token must not be empty'),
  ),
});

const ClockSchema = v.strictObject({
  advance: v.pipe(
    v.number('advance must be a number of seconds'),
    v.finite('advance must be finite'),
    v.minValue(0, 'advance must be >= 0 (the clock never goes back)'),
  ),
});

function badRequest(c: Context, message: string): Response {
  return c.json({ error: 'invalid_request', error_description: message }, 400);
}

async function readJson(c: Context): Promise<{ value: unknown } | Response> {
  const text = await c.req.text();
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

/** The `/__emulator/*` control API (JSON in and out). */
export function registerControl(app: Hono, state: EmulatorState): void {
  app.get(`${CONTROL_PREFIX}/stats`, (c) => c.json(state.stats()));

  app.post(`${CONTROL_PREFIX}/revoke`, async (c) => {
    const body = await readBody(c, RevokeSchema);
    if (body instanceof Response) return body;
    return c.json({ revoked: state.revokeRefreshToken(body.value.refresh_token) });
  });

  app.get(`${CONTROL_PREFIX}/clock`, (c) => c.json({ now: state.now() }));
  app.post(`${CONTROL_PREFIX}/clock`, async (c) => {
    const body = await readBody(c, ClockSchema);
    if (body instanceof Response) return body;
    return c.json({ now: state.advanceClock(body.value.advance) });
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
