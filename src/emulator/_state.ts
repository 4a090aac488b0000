import { randomToken } from './_crypto.js';
import { FaultTable } from './_faults.js';
import type { ResolvedOptions } from './_options.js';
import { WEB_API_PREFIX, webApiStatsKey } from './_webapi/router.js';
import { WebApiState } from './_webapi/state.js';

/** Latest time the clock may show (9999-12-31): later, dates stop printing as ISO 8601. */
export const MAX_CLOCK_MS = Date.UTC(9999, 11, 31);
/** Largest single clock advance: 100 years. */
export const MAX_ADVANCE_SECONDS = 100 * 365 * 24 * 3600;

/** Paths of the Accounts side that the stats count one by one. */
const ACCOUNTS_PATHS = new Set(['/authorize', '/authorize/decision', '/api/token']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

/**
 * The stats key of a request: `"METHOD /path"` for the Accounts endpoints,
 * `"METHOD /v1/template"` for Web API operations (ids never make new keys),
 * and one `"METHOD (other path)"` bucket for everything else, so a client
 * walking random paths cannot grow the stats without bound.
 */
export function statsKey(method: string, path: string): string {
  const verb = METHODS.has(method) ? method : 'OTHER';
  if (ACCOUNTS_PATHS.has(path)) return `${verb} ${path}`;
  if (path.startsWith(`${WEB_API_PREFIX}/`)) {
    const key = webApiStatsKey(verb, path);
    if (key !== undefined) return key;
  }
  return `${verb} (other path)`;
}

/** An authorization code waiting for its exchange. */
export interface CodeRecord {
  clientId: string;
  userId: string;
  scopes: string[];
  redirectUri: string;
  /** S256 challenge, when the request used PKCE. */
  codeChallenge: string | undefined;
  expiresAt: number;
}

/** A live (or revoked) refresh token. */
export interface RefreshTokenRecord {
  clientId: string;
  userId: string;
  scopes: string[];
  /** When the user originally authorized (ms); the lifetime counts from here, across rotations. */
  authorizedAt: number;
  /** Whether it came from a PKCE code exchange (a public client may refresh it without a secret). */
  fromPkce: boolean;
  revoked: boolean;
}

/** What the emulator knows about an access token it issued (for a Web API emulator). */
export interface AccessTokenInfo {
  /** The app it was issued to. */
  clientId: string;
  /** The user who authorized it; `undefined` for a client-credentials token. */
  userId: string | undefined;
  /** Granted scopes. */
  scopes: string[];
  /** Expiry, ms since the epoch, on the emulator's clock. */
  expiresAt: number;
}

/** A consent page waiting for the user's decision. */
export interface ConsentTransaction {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string | undefined;
  expiresAt: number;
}

/** Request counters, as `GET /__emulator/stats` reports them. */
export interface EmulatorStats {
  /** Requests by `"METHOD /path"` (control API requests are not counted). */
  requests: Record<string, number>;
  /** Token requests by `grant_type`. */
  grants: {
    authorization_code: number;
    refresh_token: number;
    client_credentials: number;
  } & Record<string, number>;
}

/** Every piece of mutable state of one emulator; `reset()` forgets it all. */
export class EmulatorState {
  readonly faults = new FaultTable();
  #clockOffsetMs = 0;
  readonly codes = new Map<string, CodeRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly accessTokens = new Map<string, AccessTokenInfo>();
  readonly transactions = new Map<string, ConsentTransaction>();
  /** Browser sessions (cookie value → user id), so `show_dialog` can be honoured. */
  readonly sessions = new Map<string, string>();
  /** Approved scopes by `userId \n clientId`. */
  readonly approvals = new Map<string, Set<string>>();
  requests: Record<string, number> = {};
  grants: Record<string, number> = freshGrants();

  readonly webApi: WebApiState;

  constructor(private readonly options: ResolvedOptions) {
    this.webApi = new WebApiState(
      options.users.map((user) => ({
        id: user.id,
        displayName: user.displayName,
        product: user.product,
      })),
      () => this.now(),
      [...options.apps.values()]
        .filter((app) => app.extendedQuota === true)
        .map((app) => app.clientId),
    );
  }

  /** The emulator's clock in ms: the configured clock plus every advance. */
  now(): number {
    return this.options.now() + this.#clockOffsetMs;
  }

  /** Moves the clock forward by `seconds` (>= 0, checked by the caller); returns the new time. */
  advanceClock(seconds: number): number {
    this.#clockOffsetMs += Math.round(seconds * 1000);
    return this.now();
  }

  /**
   * Why the clock cannot move by `seconds` (finite, 0..100 years, and never
   * past the year 9999); `undefined` when it can.
   */
  checkAdvance(seconds: unknown): string | undefined {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds))
      return 'advance must be a finite number of seconds';
    if (seconds < 0) return 'advance must be >= 0 (the clock never goes back)';
    if (seconds > MAX_ADVANCE_SECONDS)
      return `advance must be <= ${MAX_ADVANCE_SECONDS} seconds (100 years)`;
    if (this.now() + seconds * 1000 > MAX_CLOCK_MS)
      return 'advance would move the clock past the year 9999';
    return undefined;
  }

  /** Why the clock cannot be set to `ms`; `undefined` when it can. */
  checkSet(ms: unknown): string | undefined {
    if (typeof ms !== 'number' || !Number.isInteger(ms))
      return 'set must be an integer number of milliseconds since the epoch';
    if (ms < this.now()) return 'set must not be earlier than now (the clock never goes back)';
    if (ms > MAX_CLOCK_MS) return 'set must not be past the year 9999';
    return undefined;
  }

  /** Expires an access token now; `true` when it was known and still valid. */
  expireAccessToken(token: string): boolean {
    const info = this.accessTokens.get(token);
    if (info === undefined || info.expiresAt <= this.now()) return false;
    info.expiresAt = this.now();
    return true;
  }

  countRequest(method: string, path: string): void {
    const key = statsKey(method, path);
    this.requests[key] = (this.requests[key] ?? 0) + 1;
  }

  countGrant(grantType: string): void {
    this.grants[grantType] = (this.grants[grantType] ?? 0) + 1;
  }

  stats(): EmulatorStats {
    return {
      requests: { ...this.requests },
      grants: { ...this.grants } as EmulatorStats['grants'],
    };
  }

  issueCode(record: Omit<CodeRecord, 'expiresAt'>): string {
    const code = randomToken('AQ', 64);
    this.codes.set(code, { ...record, expiresAt: this.now() + this.options.codeLifetime * 1000 });
    return code;
  }

  issueAccessToken(clientId: string, userId: string | undefined, scopes: string[]): string {
    const token = randomToken('BQ', 96);
    this.accessTokens.set(token, {
      clientId,
      userId,
      scopes: [...scopes],
      expiresAt: this.now() + this.options.accessTokenLifetime * 1000,
    });
    return token;
  }

  issueRefreshToken(record: Omit<RefreshTokenRecord, 'revoked'>): string {
    const token = randomToken('AQ', 96);
    this.refreshTokens.set(token, { ...record, scopes: [...record.scopes], revoked: false });
    return token;
  }

  lookupAccessToken(token: string): AccessTokenInfo | undefined {
    const info = this.accessTokens.get(token);
    return info === undefined ? undefined : { ...info, scopes: [...info.scopes] };
  }

  /** Marks a refresh token revoked; `true` when it was known and not revoked yet. */
  revokeRefreshToken(token: string): boolean {
    const record = this.refreshTokens.get(token);
    if (record === undefined || record.revoked) return false;
    record.revoked = true;
    return true;
  }

  approve(userId: string, clientId: string, scopes: readonly string[]): void {
    const key = `${userId}\n${clientId}`;
    const approved = this.approvals.get(key) ?? new Set<string>();
    for (const scope of scopes) approved.add(scope);
    this.approvals.set(key, approved);
  }

  isApproved(userId: string, clientId: string, scopes: readonly string[]): boolean {
    const approved = this.approvals.get(`${userId}\n${clientId}`);
    return approved !== undefined && scopes.every((scope) => approved.has(scope));
  }

  reset(): void {
    this.faults.clear();
    this.#clockOffsetMs = 0;
    this.codes.clear();
    this.refreshTokens.clear();
    this.accessTokens.clear();
    this.transactions.clear();
    this.sessions.clear();
    this.approvals.clear();
    this.requests = {};
    this.grants = freshGrants();
    this.webApi.reset();
  }
}

function freshGrants(): Record<string, number> {
  return { authorization_code: 0, refresh_token: 0, client_credentials: 0 };
}
