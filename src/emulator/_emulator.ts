import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { registerAuthorize } from './_authorize.js';
import { errorPage, PAGE_HEADERS } from './_consent-page.js';
import { CONTROL_PREFIX, registerControl } from './_control.js';
import {
  type ActiveFault,
  EmulatorDroppedConnection,
  type EmulatorFault,
  faultResponse,
  parseFault,
} from './_faults.js';
import { type EmulatorServer, type ListenOptions, listenOn } from './_listen.js';
import { type EmulatorOptions, type ResolvedOptions, resolveOptions } from './_options.js';
import { type AccessTokenInfo, EmulatorState, type EmulatorStats } from './_state.js';
import { registerToken, TOKEN_CORS, TOKEN_PATH } from './_token.js';

/** A local Spotify Accounts service. */
export interface Emulator {
  /** The Hono app: `emulator.app.request('/api/token', …)` runs a request in-process. */
  readonly app: Hono;
  /** The app's fetch handler; rejects with a `TypeError` when a `drop` fault hits. */
  fetch(request: Request): Promise<Response>;
  /** Serves the emulator on a port (127.0.0.1 and a free port by default). */
  listen(options?: ListenOptions): Promise<EmulatorServer>;
  /** Request and grant counters (like `GET /__emulator/stats`). */
  stats(): EmulatorStats;
  /** Adds a fault (like `POST /__emulator/faults`); throws a `TypeError` for an invalid one. */
  setFault(fault: EmulatorFault): ActiveFault;
  /** The faults still active (like `GET /__emulator/faults`). */
  listFaults(): ActiveFault[];
  /** Removes every fault; returns how many there were (like `DELETE /__emulator/faults`). */
  clearFaults(): number;
  /** Moves the emulator's clock forward; returns the new time in ms (like `POST /__emulator/clock`). */
  advanceClock(seconds: number): number;
  /** The emulator's current time in ms. */
  now(): number;
  /** Revokes a refresh token; `true` when it was live (like `POST /__emulator/revoke`). */
  revokeRefreshToken(refreshToken: string): boolean;
  /**
   * What the emulator knows about an access token it issued (user, scopes,
   * expiry), for a Web API emulator; `undefined` for a token it never issued.
   */
  lookupAccessToken(accessToken: string): AccessTokenInfo | undefined;
  /** Forgets tokens, codes, approvals, counters, faults and the clock advance. */
  reset(): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function buildApp(options: ResolvedOptions, state: EmulatorState): Hono {
  const app = new Hono();

  const isControl = (path: string) =>
    path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`);

  // Stats count every Spotify-shaped request, CORS preflights and refused ones included.
  app.use('*', async (c, next) => {
    if (!isControl(c.req.path)) state.countRequest(c.req.method, c.req.path);
    return next();
  });
  // Before the faults, so a faulted answer still carries CORS headers (a browser
  // could not read a 429 otherwise) and a preflight never uses up a fault.
  app.use(TOKEN_PATH, cors(TOKEN_CORS));
  app.use('*', async (c, next) => {
    const path = c.req.path;
    if (isControl(path)) return next();
    const decision = state.faults.decide(path);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.terminal?.type === 'drop') throw new EmulatorDroppedConnection();
    if (decision.terminal !== undefined) {
      c.res = faultResponse(decision.terminal, path);
      return;
    }
    return next();
  });

  registerControl(app, state);
  registerAuthorize(app, options, state);
  registerToken(app, options, state);

  app.notFound((c) => c.html(errorPage('Not found'), 404, PAGE_HEADERS));
  app.onError((error, c) => {
    // A dropped connection must reach the caller as a rejection, not as an answer.
    if (error instanceof EmulatorDroppedConnection) throw error;
    return c.json({ error: 'server_error', error_description: 'Unexpected status: 500' }, 500);
  });
  return app;
}

/**
 * Creates a local Spotify Accounts service (`GET /authorize`, `POST /api/token`)
 * following Spotify's documented behaviour, plus a `/__emulator/*` control API.
 * `/api/token` answers CORS (any origin, with its `OPTIONS` preflight) so browser
 * PKCE apps can call it directly, as they call Spotify's.
 * Throws a `TypeError` for options Spotify itself would refuse.
 */
export function createEmulator(options?: EmulatorOptions): Emulator {
  const resolved = resolveOptions(options);
  const state = new EmulatorState(resolved);
  const app = buildApp(resolved, state);
  const fetch = async (request: Request): Promise<Response> => app.fetch(request);
  return {
    app,
    fetch,
    listen: (listenOptions) => listenOn(fetch, listenOptions),
    stats: () => state.stats(),
    setFault: (fault) => state.faults.add(parseFault(fault)),
    listFaults: () => state.faults.list(),
    clearFaults: () => state.faults.clear(),
    advanceClock(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0)
        throw new TypeError('advanceClock: seconds must be a finite number >= 0');
      return state.advanceClock(seconds);
    },
    now: () => state.now(),
    revokeRefreshToken: (refreshToken) => state.revokeRefreshToken(refreshToken),
    lookupAccessToken: (accessToken) => state.lookupAccessToken(accessToken),
    reset: () => state.reset(),
  };
}
