import { isAllowedRedirectUri } from './_redirect-uri.js';

/** A registered application, as on Spotify's developer dashboard. */
export interface EmulatorApp {
  /** The app's client id. */
  clientId: string;
  /** The app's client secret (PKCE clients may still have one; they just do not send it). */
  clientSecret: string;
  /**
   * Registered redirect URIs. A loopback IP literal (`http://127.0.0.1:PORT/…`,
   * `http://[::1]:PORT/…`) also matches the same URI with any other port.
   */
  redirectUris: string[];
  /**
   * The app has extended quota mode. Without it (every new app) it is in
   * Development Mode: the Web API's withdrawn endpoints refuse it, e.g.
   * `GET /v1/playlists/{id}/tracks` and `GET /v1/albums?ids=…` answer 403
   * `Forbidden` (`GET /v1/recommendations` 404), and playlist entries carry
   * `item` only, not the older `track`. `emulator.setExtendedQuota()` switches
   * it while the emulator runs.
   * @default false
   */
  extendedQuota?: boolean;
}

/** A demo Spotify user who can approve requests on the consent page. */
export interface EmulatorUser {
  /** Spotify user id. */
  id: string;
  /** Name shown on the consent page. */
  displayName: string;
  /** E-mail address. */
  email: string;
  /** ISO 3166-1 alpha-2 country code. */
  country: string;
  /** Subscription level. */
  product: 'premium' | 'free' | 'open';
}

/** When refresh tokens are replaced by a new one on the refresh grant. */
export type RotationPolicy = 'never' | 'always' | 'pkce';

/** Options of {@link createEmulator}. */
export interface EmulatorOptions {
  /**
   * Registered applications.
   * @default [DEMO_APP]
   */
  apps?: EmulatorApp[];
  /**
   * Users who can approve requests on the consent page.
   * @default DEMO_USERS
   */
  users?: EmulatorUser[];
  /**
   * Skip the consent page: `/authorize` answers at once with a 302 carrying a
   * code for this user id (`true` = the first user).
   * @default false
   */
  autoApprove?: string | boolean;
  /**
   * Refresh-token rotation on the refresh grant: `never` (the response has no
   * `refresh_token`), `always`, or `pkce` (only tokens that came from a PKCE
   * code exchange). A rotated-out token is answered with `invalid_grant`.
   * @default 'never'
   */
  rotation?: RotationPolicy;
  /**
   * Access-token lifetime in seconds (`expires_in`).
   * @default 3600
   */
  accessTokenLifetime?: number;
  /**
   * Refresh-token lifetime in seconds, counted from the original
   * authorization; refreshing never extends it.
   * @default 15_552_000 (180 days)
   */
  refreshTokenLifetime?: number;
  /**
   * Authorization-code lifetime in seconds.
   * @default 600
   */
  codeLifetime?: number;
  /**
   * The clock, in milliseconds since the epoch. The control API's clock
   * advance is added to it.
   * @default Date.now
   */
  now?: () => number;
}

/** The demo application every emulator knows unless `apps` is given. */
export const DEMO_APP: Readonly<EmulatorApp> = Object.freeze({
  clientId: 'spotify-session-demo',
  clientSecret: 'spotify-session-demo-secret',
  redirectUris: Object.freeze([
    'http://127.0.0.1:8888/callback',
    'spotify-session-demo://callback',
  ]) as string[],
});

/** The demo users every emulator knows unless `users` is given. */
export const DEMO_USERS: readonly Readonly<EmulatorUser>[] = Object.freeze([
  Object.freeze({
    id: 'demo-user',
    displayName: 'Demo User',
    email: 'demo-user@example.com',
    country: 'SE',
    product: 'premium' as const,
  }),
  Object.freeze({
    id: 'demo-user-2',
    displayName: 'Second Demo User',
    email: 'demo-user-2@example.com',
    country: 'US',
    product: 'free' as const,
  }),
]);

/** Options with every default applied. */
export interface ResolvedOptions {
  apps: ReadonlyMap<string, EmulatorApp>;
  users: readonly EmulatorUser[];
  autoApproveUserId: string | undefined;
  rotation: RotationPolicy;
  accessTokenLifetime: number;
  refreshTokenLifetime: number;
  codeLifetime: number;
  now: () => number;
}

const ROTATION_POLICIES: readonly RotationPolicy[] = ['never', 'always', 'pkce'];

/** Applies defaults and refuses options real Spotify could never be configured with. */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const appList = options.apps ?? [DEMO_APP];
  const apps = new Map<string, EmulatorApp>();
  appList.forEach((app, index) => {
    const where = `EmulatorOptions.apps[${index}]`;
    if (typeof app.clientId !== 'string' || app.clientId === '')
      throw new TypeError(`${where}.clientId must be a non-empty string`);
    if (typeof app.clientSecret !== 'string' || app.clientSecret === '')
      throw new TypeError(`${where}.clientSecret must be a non-empty string`);
    if (apps.has(app.clientId)) throw new TypeError(`${where}.clientId is registered twice`);
    if (!Array.isArray(app.redirectUris))
      throw new TypeError(`${where}.redirectUris must be an array`);
    app.redirectUris.forEach((uri, uriIndex) => {
      const verdict = isAllowedRedirectUri(uri);
      if (verdict !== 'ok')
        throw new TypeError(
          `${where}.redirectUris[${uriIndex}] is refused by Spotify's rules (${verdict}): use https://, http://127.0.0.1:PORT, http://[::1]:PORT or a custom scheme`,
        );
    });
    if (app.extendedQuota !== undefined && typeof app.extendedQuota !== 'boolean')
      throw new TypeError(`${where}.extendedQuota must be a boolean`);
    apps.set(app.clientId, {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUris: [...app.redirectUris],
      ...(app.extendedQuota === undefined ? {} : { extendedQuota: app.extendedQuota }),
    });
  });

  const users = [...(options.users ?? DEMO_USERS)].map((user) => ({ ...user }));
  if (users.length === 0) throw new TypeError('EmulatorOptions.users must name at least one user');
  const ids = new Set<string>();
  for (const user of users) {
    if (typeof user.id !== 'string' || user.id === '')
      throw new TypeError('EmulatorOptions.users: every user needs a non-empty id');
    if (ids.has(user.id))
      throw new TypeError(`EmulatorOptions.users: id "${user.id}" is used twice`);
    ids.add(user.id);
  }

  let autoApproveUserId: string | undefined;
  if (options.autoApprove === true) autoApproveUserId = users[0]?.id;
  else if (typeof options.autoApprove === 'string') {
    if (!ids.has(options.autoApprove))
      throw new TypeError(
        `EmulatorOptions.autoApprove: no user "${options.autoApprove}" (known: ${[...ids].join(', ')})`,
      );
    autoApproveUserId = options.autoApprove;
  }

  const rotation = options.rotation ?? 'never';
  if (!ROTATION_POLICIES.includes(rotation))
    throw new TypeError(`EmulatorOptions.rotation must be one of ${ROTATION_POLICIES.join(', ')}`);

  return {
    apps,
    users,
    autoApproveUserId,
    rotation,
    accessTokenLifetime: positiveSeconds('accessTokenLifetime', options.accessTokenLifetime, 3600),
    refreshTokenLifetime: positiveSeconds(
      'refreshTokenLifetime',
      options.refreshTokenLifetime,
      15_552_000,
    ),
    codeLifetime: positiveSeconds('codeLifetime', options.codeLifetime, 600),
    now: options.now ?? Date.now,
  };
}

function positiveSeconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`EmulatorOptions.${name} must be a positive integer number of seconds`);
  return value;
}
