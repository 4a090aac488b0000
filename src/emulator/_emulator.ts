import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { registerAuthorize } from './_authorize.js';
import { errorPage, PAGE_HEADERS } from './_consent-page.js';
import {
  CONTROL_PREFIX,
  type ControlHosts,
  clockTarget,
  InvalidControlInputError,
  listeningHostname,
  registerControl,
  type WebApiControls,
} from './_control.js';
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
import { registerWebApi, WEB_API_CORS, WEB_API_PREFIX } from './_webapi/router.js';

/** A local Spotify Accounts service and Web API. */
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
  /**
   * Moves the emulator's clock forward; returns the new time in ms (like
   * `POST /__emulator/clock {"advance"}`). Throws a `TypeError` unless
   * `seconds` is finite, 0..100 years, and keeps the clock before the year 10000.
   */
  advanceClock(seconds: number): number;
  /**
   * Sets the emulator's clock to `ms` since the epoch, never backwards; returns
   * the new time (like `POST /__emulator/clock {"set"}`). Throws a `TypeError`
   * for an earlier time, a non-integer or a time past the year 9999.
   */
  setClock(ms: number): number;
  /** The emulator's current time in ms. */
  now(): number;
  /** Revokes a refresh token; `true` when it was live (like `POST /__emulator/revoke`). */
  revokeRefreshToken(refreshToken: string): boolean;
  /**
   * What the emulator knows about an access token it issued (user, scopes,
   * expiry), for a Web API emulator; `undefined` for a token it never issued.
   */
  lookupAccessToken(accessToken: string): AccessTokenInfo | undefined;
  /**
   * Expires an access token now, so the Web API answers it with 401; `true`
   * when it was known and still valid (like `POST /__emulator/expire`).
   */
  expireAccessToken(accessToken: string): boolean;
  /**
   * Marks a user as (not) allowlisted in the app's Development Mode user
   * list; the Web API answers a user who is not with 403 `User not registered
   * in the Developer Dashboard` (like `POST /__emulator/allowlist`). Throws a
   * `TypeError` for an unknown user.
   */
  setAllowlisted(userId: string, allowlisted: boolean): void;
  /**
   * Changes a user's subscription; player commands of a non-premium user
   * answer 403 `PREMIUM_REQUIRED` (like `POST /__emulator/product`).
   */
  setProduct(userId: string, product: 'premium' | 'free' | 'open'): void;
  /**
   * Makes one of the user's devices the active one, or none (`null`: player
   * commands then answer 404 `NO_ACTIVE_DEVICE`, `GET /me/player` 204) (like
   * `POST /__emulator/active-device`). Throws a `TypeError` for an unknown
   * user or device.
   */
  setActiveDevice(userId: string, deviceId: string | null): void;
  /**
   * Gives an app extended quota (`true`) or puts it in Development Mode (`false`, every new
   * app's mode): the Web API's withdrawn endpoints answer it normally, or with Spotify's 403
   * (404 for recommendations and the featured and category playlists) (like
   * `POST /__emulator/extended-quota`). `reset()` restores the apps' `extendedQuota` option.
   * Throws a `TypeError` for an unknown client id.
   */
  setExtendedQuota(clientId: string, extendedQuota: boolean): void;
  /**
   * Forgets tokens, codes, approvals, counters, faults and the clock advance,
   * and restores the Web API's seeded playlists, libraries and players, and the
   * apps' quota mode.
   */
  reset(): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function webApiControls(state: EmulatorState, apps: ResolvedOptions['apps']): WebApiControls {
  const user = (userId: string) => {
    if (state.webApi.user(userId) === undefined)
      throw new InvalidControlInputError(`No user "${userId}"`);
    return userId;
  };
  return {
    setAllowlisted(userId, allowlisted) {
      if (typeof allowlisted !== 'boolean')
        throw new InvalidControlInputError('allowlisted must be a boolean');
      if (allowlisted) state.webApi.notAllowlisted.delete(user(userId));
      else state.webApi.notAllowlisted.add(user(userId));
    },
    setProduct(userId, product) {
      if (!['premium', 'free', 'open'].includes(product))
        throw new InvalidControlInputError('product must be "premium", "free" or "open"');
      state.webApi.products.set(user(userId), product);
    },
    setActiveDevice(userId, deviceId) {
      const player = state.webApi.player(user(userId));
      if (deviceId !== null && !player.devices.some((device) => device.id === deviceId))
        throw new InvalidControlInputError(
          `No device "${deviceId}" for user "${userId}" (known: ${player.devices.map((device) => device.id).join(', ')})`,
        );
      if (deviceId === player.activeDeviceId) return;
      player.progressMs = state.webApi.currentProgress(player);
      player.since = state.now();
      player.activeDeviceId = deviceId;
      if (deviceId === null) player.isPlaying = false;
    },
    setExtendedQuota(clientId, extendedQuota) {
      if (typeof extendedQuota !== 'boolean')
        throw new InvalidControlInputError('extendedQuota must be a boolean');
      if (!apps.has(clientId))
        throw new InvalidControlInputError(
          `No app "${clientId}" (known: ${[...apps.keys()].join(', ')})`,
        );
      if (extendedQuota) state.webApi.extendedQuota.add(clientId);
      else state.webApi.extendedQuota.delete(clientId);
    },
  };
}

function buildApp(
  options: ResolvedOptions,
  state: EmulatorState,
  controls: WebApiControls,
  controlHosts: ControlHosts,
): Hono {
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
  app.use(`${WEB_API_PREFIX}/*`, cors(WEB_API_CORS));
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

  registerControl(app, state, controls, controlHosts);
  registerAuthorize(app, options, state);
  registerToken(app, options, state);
  registerWebApi(app, {
    state: state.webApi,
    now: () => state.now(),
    lookupToken: (token) => state.accessTokens.get(token),
  });

  app.notFound((c) => c.html(errorPage('Not found'), 404, PAGE_HEADERS));
  app.onError((error, c) => {
    // A dropped connection must reach the caller as a rejection, not as an answer.
    if (error instanceof EmulatorDroppedConnection) throw error;
    if (c.req.path === WEB_API_PREFIX || c.req.path.startsWith(`${WEB_API_PREFIX}/`))
      return c.json({ error: { status: 500, message: 'Server error' } }, 500);
    return c.json({ error: 'server_error', error_description: 'Unexpected status: 500' }, 500);
  });
  return app;
}

/**
 * Creates a local Spotify Accounts service (`GET /authorize`, `POST /api/token`)
 * and Web API (`/v1/…`, with a seeded demo catalogue) following Spotify's
 * documented behaviour, plus a `/__emulator/*` control API.
 * `/api/token` answers CORS (any origin, with its `OPTIONS` preflight) so browser
 * PKCE apps can call it directly, as they call Spotify's.
 * Throws a `TypeError` for options Spotify itself would refuse.
 */
export function createEmulator(options?: EmulatorOptions): Emulator {
  const resolved = resolveOptions(options);
  const state = new EmulatorState(resolved);
  const controls = webApiControls(state, resolved.apps);
  const controlHosts = new Set<string>();
  const app = buildApp(resolved, state, controls, controlHosts);
  const fetch = async (request: Request): Promise<Response> => app.fetch(request);
  return {
    app,
    fetch,
    async listen(listenOptions) {
      const server = await listenOn(fetch, listenOptions);
      const hostname = listeningHostname(listenOptions?.host ?? '127.0.0.1');
      if (hostname !== undefined) controlHosts.add(hostname);
      return server;
    },
    stats: () => state.stats(),
    setFault: (fault) => state.faults.add(parseFault(fault)),
    listFaults: () => state.faults.list(),
    clearFaults: () => state.faults.clear(),
    advanceClock(seconds) {
      const target = clockTarget(state, { advance: seconds });
      if ('error' in target) throw new InvalidControlInputError(`advanceClock: ${target.error}`);
      return state.advanceClock(target.advanceSeconds);
    },
    setClock(ms) {
      const target = clockTarget(state, { set: ms });
      if ('error' in target) throw new InvalidControlInputError(`setClock: ${target.error}`);
      return state.advanceClock(target.advanceSeconds);
    },
    now: () => state.now(),
    revokeRefreshToken: (refreshToken) => state.revokeRefreshToken(refreshToken),
    lookupAccessToken: (accessToken) => state.lookupAccessToken(accessToken),
    expireAccessToken: (accessToken) => state.expireAccessToken(accessToken),
    setAllowlisted: controls.setAllowlisted,
    setProduct: controls.setProduct,
    setActiveDevice: controls.setActiveDevice,
    setExtendedQuota: controls.setExtendedQuota,
    reset: () => state.reset(),
  };
}
