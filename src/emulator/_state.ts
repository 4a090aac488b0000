import { randomToken } from './_crypto.js';
import { FaultTable } from './_faults.js';
import type { ResolvedOptions } from './_options.js';

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

  constructor(private readonly options: ResolvedOptions) {}

  /** The emulator's clock in ms: the configured clock plus every advance. */
  now(): number {
    return this.options.now() + this.#clockOffsetMs;
  }

  /** Moves the clock forward by `seconds` (>= 0, checked by the caller); returns the new time. */
  advanceClock(seconds: number): number {
    this.#clockOffsetMs += Math.round(seconds * 1000);
    return this.now();
  }

  countRequest(method: string, path: string): void {
    const key = `${method} ${path}`;
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
  }
}

function freshGrants(): Record<string, number> {
  return { authorization_code: 0, refresh_token: 0, client_credentials: 0 };
}
