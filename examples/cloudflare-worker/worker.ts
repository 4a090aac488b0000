/**
 * The token swap server on Cloudflare Workers: `createTokenServer` is a fetch handler, so
 * the Worker only maps its bindings to options. Secrets are set with `wrangler secret put`
 * (see README.md), never in wrangler.toml.
 */
import { createTokenServer, type TokenServer } from 'spotify-session/server';

/** Bindings of this Worker: [vars] in wrangler.toml plus the secrets. */
export interface Env {
  /** Client id of your Spotify app ([vars]). */
  SPOTIFY_CLIENT_ID: string;
  /** Redirect URI(s) your app registered, comma-separated, the default first ([vars]). */
  SPOTIFY_REDIRECT_URI: string;
  /** Client secret (`wrangler secret put SPOTIFY_CLIENT_SECRET`). */
  SPOTIFY_CLIENT_SECRET: string;
  /** `kid:secret` keys, active first (`wrangler secret put TOKEN_ENCRYPTION_KEYS`). */
  TOKEN_ENCRYPTION_KEYS: string;
  /** Optional route prefix, e.g. `/v1` ([vars]). */
  BASE_PATH?: string;
  /** Optional comma-separated browser origins allowed by CORS ([vars]). */
  CORS_ORIGINS?: string;
  /** Optional Accounts service base URL, e.g. a local emulator ([vars]). */
  SPOTIFY_ACCOUNTS_URL?: string;
  /** Optional log level: fatal, error, warn, info (default), debug, trace or silent ([vars]). */
  LOG_LEVEL?: string;
}

/** The part of Workers' ExecutionContext the server may use. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

// One server per isolate: the keys are parsed (and imported as non-extractable
// CryptoKeys) once, not on every request. Bindings do not change within an isolate.
let server: TokenServer | undefined;

function tokenServer(env: Env): TokenServer {
  server ??= createTokenServer({
    clientId: env.SPOTIFY_CLIENT_ID,
    clientSecret: env.SPOTIFY_CLIENT_SECRET,
    redirectUris: list(env.SPOTIFY_REDIRECT_URI),
    encryptionKeys: env.TOKEN_ENCRYPTION_KEYS,
    basePath: env.BASE_PATH ?? '',
    ...(env.SPOTIFY_ACCOUNTS_URL === undefined ? {} : { accountsUrl: env.SPOTIFY_ACCOUNTS_URL }),
    corsOrigins: list(env.CORS_ORIGINS),
    // Cloudflare sets the visitor's address; there is no socket to read on Workers.
    clientIp: (request: Request) => request.headers.get('cf-connecting-ip') ?? undefined,
    // Per-isolate memory counters only slow down a single abuser hitting one isolate:
    // add a Cloudflare rate limiting rule on /swap and /refresh for a global limit.
    rateLimit: { ip: 120, token: 10, window: 60 },
    // JSON lines through console.log: visible with `wrangler tail` and in Workers Logs.
    logger: { level: env.LOG_LEVEL ?? 'info' },
  });
  return server;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let handler: TokenServer;
    try {
      handler = tokenServer(env);
    } catch (error) {
      // A missing or invalid binding (ConfigurationError: its message names the setting,
      // never a secret). Answer JSON, as the mobile SDKs cannot parse Cloudflare's HTML
      // error page, and build the server again on the next request once it is fixed.
      // biome-ignore lint/suspicious/noConsole: on Workers, console is where logs go.
      console.error(error instanceof Error ? error.message : 'token server misconfigured');
      return new Response(
        JSON.stringify({
          error: 'server_error',
          error_description: 'The token server is misconfigured',
        }),
        { status: 500, headers: { 'content-type': 'application/json' } },
      );
    }
    return handler.fetch(request, env, ctx);
  },
};
