import * as v from 'valibot';
import { seededRandom } from './_crypto.js';
import { withoutTrailingSlash } from './_webapi/operations.js';

/**
 * Which endpoint a fault applies to: `*` is every endpoint except the control
 * API; `/v1` every Web API path; `/v1/…` one Web API path, exact
 * (`/v1/me`) or as a template (`/v1/tracks/{id}`).
 */
export type FaultEndpoint = '/authorize' | '/api/token' | '/v1' | `/v1/${string}` | '*';

/** A fault to inject, as `POST /__emulator/faults` takes it. */
export interface EmulatorFault {
  /** `/authorize` (also the consent form's POST), `/api/token`, `/v1`, `/v1/…`, or `*`. */
  endpoint: FaultEndpoint;
  /**
   * `latency` delays the answer by `latencyMs`; `status` answers with `status`
   * instead of the real answer; `drop` closes the connection without an answer
   * (in-process, the fetch handler rejects with a `TypeError`, like `fetch` does).
   */
  type: 'latency' | 'status' | 'drop';
  /** Delay in ms before answering (required for `latency`, allowed with the others). */
  latencyMs?: number;
  /** HTTP status of a `status` fault. */
  status?: 429 | 500 | 502 | 503;
  /** `Retry-After` seconds sent with a 429 or 503. @default 1 for 429, none for 503 */
  retryAfter?: number;
  /**
   * `QUOTA_EXCEEDED`: a 429 says the quota is exhausted
   * (`{"error":{"status":429,"message":"Too many requests","reason":"QUOTA_EXCEEDED"}}`)
   * instead of the rolling-window `API rate limit exceeded`.
   */
  reason?: 'QUOTA_EXCEEDED';
  /** Answer with an empty body (Spotify's 429 sometimes has none). @default false */
  emptyBody?: boolean;
  /** Apply to the next `count` matching requests only, then disappear. @default unlimited */
  count?: number;
  /** Fraction (0..1) of matching requests hit, drawn from a seeded PRNG. @default 1 */
  rate?: number;
  /** Seed of the PRNG behind `rate`, so runs are reproducible. @default 1 */
  seed?: number;
}

/** A fault as listed by `GET /__emulator/faults`. */
export interface ActiveFault extends EmulatorFault {
  /** Identifier of this fault. */
  id: string;
  /** Requests this fault has hit so far. */
  hits: number;
  /** Hits left before it disappears (when `count` was given). */
  remaining?: number;
}

const MAX_LATENCY_MS = 120_000;
const ENDPOINT_MESSAGE =
  'endpoint must be "/authorize", "/api/token", "/v1", a Web API path such as "/v1/me" or "/v1/tracks/{id}", or "*"';

/** valibot schema of {@link EmulatorFault}; unknown fields are refused so typos show. */
const FaultSchema = v.pipe(
  v.strictObject({
    endpoint: v.pipe(
      v.string(ENDPOINT_MESSAGE),
      v.maxLength(200, ENDPOINT_MESSAGE),
      v.check(
        (endpoint) =>
          ['/authorize', '/api/token', '/v1', '*'].includes(endpoint) ||
          /^\/v1(\/(?:[A-Za-z0-9._~-]+|\{[a-z_]+\}))+$/.test(endpoint),
        ENDPOINT_MESSAGE,
      ),
    ),
    type: v.picklist(['latency', 'status', 'drop'], 'type must be "latency", "status" or "drop"'),
    latencyMs: v.optional(
      v.pipe(
        v.number('latencyMs must be a number'),
        v.integer('latencyMs must be an integer'),
        v.minValue(0, 'latencyMs must be >= 0'),
        v.maxValue(MAX_LATENCY_MS, `latencyMs must be <= ${MAX_LATENCY_MS}`),
      ),
    ),
    status: v.optional(v.picklist([429, 500, 502, 503], 'status must be 429, 500, 502 or 503')),
    retryAfter: v.optional(
      v.pipe(
        v.number('retryAfter must be a number'),
        v.integer('retryAfter must be an integer'),
        v.minValue(0, 'retryAfter must be >= 0'),
      ),
    ),
    reason: v.optional(v.picklist(['QUOTA_EXCEEDED'], 'reason must be "QUOTA_EXCEEDED"')),
    emptyBody: v.optional(v.boolean('emptyBody must be a boolean')),
    count: v.optional(
      v.pipe(
        v.number('count must be a number'),
        v.integer('count must be an integer'),
        v.minValue(1, 'count must be >= 1'),
      ),
    ),
    rate: v.optional(
      v.pipe(
        v.number('rate must be a number'),
        v.minValue(0, 'rate must be between 0 and 1'),
        v.maxValue(1, 'rate must be between 0 and 1'),
      ),
    ),
    seed: v.optional(
      v.pipe(v.number('seed must be a number'), v.integer('seed must be an integer')),
    ),
  }),
  v.check(
    (fault) => fault.type !== 'latency' || fault.latencyMs !== undefined,
    'a latency fault needs latencyMs',
  ),
  v.check(
    (fault) => fault.type !== 'status' || fault.status !== undefined,
    'a status fault needs status',
  ),
  v.check(
    (fault) => fault.type === 'status' || fault.status === undefined,
    'status is only for a status fault',
  ),
  v.check(
    (fault) => fault.retryAfter === undefined || fault.status === 429 || fault.status === 503,
    'retryAfter is only for status 429 or 503',
  ),
  v.check(
    (fault) => fault.reason === undefined || fault.status === 429,
    'reason is only for status 429',
  ),
  v.check(
    (fault) => fault.emptyBody === undefined || fault.type === 'status',
    'emptyBody is only for a status fault',
  ),
);

/** Thrown by {@link parseFault} with a message naming every problem. */
export class InvalidFaultError extends TypeError {
  override readonly name = 'InvalidFaultError';
}

/** Validates a fault from the control API or the programmatic API. */
export function parseFault(input: unknown): EmulatorFault {
  const result = v.safeParse(FaultSchema, input);
  if (!result.success)
    throw new InvalidFaultError(result.issues.map((issue) => issue.message).join('; '));
  const fault: EmulatorFault = {
    endpoint: result.output.endpoint as FaultEndpoint,
    type: result.output.type,
  };
  for (const key of [
    'latencyMs',
    'status',
    'retryAfter',
    'reason',
    'emptyBody',
    'count',
    'rate',
    'seed',
  ] as const) {
    const value = result.output[key];
    if (value !== undefined) (fault as unknown as Record<string, unknown>)[key] = value;
  }
  return fault;
}

/**
 * What the emulator throws in-process for a `drop` fault: a `TypeError`, like
 * the one `fetch` rejects with when a connection closes without an answer.
 */
export class EmulatorDroppedConnection extends TypeError {
  constructor() {
    super('fetch failed', {
      cause: new Error('the emulator dropped the connection (fault injection)'),
    });
  }
}

/** What the faults decided for one request. */
export interface FaultDecision {
  /** Total delay from every firing fault. */
  latencyMs: number;
  /** The status or drop fault that answers instead of the endpoint. */
  terminal: ActiveFault | undefined;
}

interface FaultEntry {
  fault: ActiveFault;
  random: () => number;
}

/** The injected faults, in the order they were added. */
export class FaultTable {
  #entries: FaultEntry[] = [];
  #nextId = 1;

  add(fault: EmulatorFault): ActiveFault {
    const active: ActiveFault = { id: `fault-${this.#nextId++}`, ...fault, hits: 0 };
    if (fault.count !== undefined) active.remaining = fault.count;
    this.#entries.push({ fault: active, random: seededRandom(fault.seed ?? 1) });
    return { ...active };
  }

  list(): ActiveFault[] {
    return this.#entries.map((entry) => ({ ...entry.fault }));
  }

  /** Removes every fault; returns how many there were. */
  clear(): number {
    const count = this.#entries.length;
    this.#entries = [];
    this.#nextId = 1;
    return count;
  }

  /**
   * Decides which faults hit a request to `path`. Every matching latency
   * delay adds up; the first matching status/drop fault answers.
   */
  decide(path: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, terminal: undefined };
    for (const entry of [...this.#entries]) {
      const { fault } = entry;
      if (!endpointMatches(fault.endpoint, path)) continue;
      const isTerminal = fault.type !== 'latency';
      if (isTerminal && decision.terminal !== undefined) continue;
      if (fault.rate !== undefined && !(entry.random() < fault.rate)) continue;
      fault.hits += 1;
      if (fault.remaining !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) this.#entries = this.#entries.filter((e) => e !== entry);
      }
      decision.latencyMs += fault.latencyMs ?? 0;
      if (isTerminal) decision.terminal = { ...fault };
    }
    return decision;
  }
}

function endpointMatches(endpoint: FaultEndpoint, requestPath: string): boolean {
  if (endpoint === '*') return true;
  if (endpoint === '/authorize')
    return requestPath === '/authorize' || requestPath.startsWith('/authorize/');
  if (endpoint === '/v1') return requestPath === '/v1' || requestPath.startsWith('/v1/');
  // A Web API path with its one trailing slash is the same operation.
  const path = requestPath.startsWith('/v1/') ? withoutTrailingSlash(requestPath) : requestPath;
  if (endpoint.includes('{'))
    return new RegExp(`^${endpoint.replace(/\{[a-z_]+\}/g, '[^/]+')}$`).test(path);
  return path === endpoint;
}

/** Spotify's messages for the statuses a fault can answer with. */
const WEB_API_MESSAGES: Record<number, string> = {
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

/** The answer of a `status` fault: OAuth-shaped JSON for `/api/token`, an HTML page elsewhere. */
export function faultResponse(fault: ActiveFault, path: string): Response {
  const status = fault.status ?? 500;
  const headers = new Headers({ 'Cache-Control': 'no-store' });
  const retryAfter = fault.retryAfter ?? (status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) headers.set('Retry-After', String(retryAfter));
  if (fault.emptyBody === true) return new Response(null, { status, headers });
  if (path.startsWith('/authorize')) {
    headers.set('Content-Type', 'text/html; charset=utf-8');
    const text = status === 429 ? 'Too many requests' : `Something went wrong (HTTP ${status})`;
    return new Response(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><p>${text}</p></body></html>`,
      { status, headers },
    );
  }
  headers.set('Content-Type', 'application/json');
  const isWebApi = path === '/v1' || path.startsWith('/v1/');
  let body: unknown;
  if (status === 429)
    body =
      fault.reason === 'QUOTA_EXCEEDED'
        ? { error: { status, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } }
        : { error: { status, message: 'API rate limit exceeded' } };
  else if (isWebApi)
    body = { error: { status, message: WEB_API_MESSAGES[status] ?? 'Server error' } };
  else body = { error: 'server_error', error_description: `Unexpected status: ${status}` };
  return new Response(JSON.stringify(body), { status, headers });
}
