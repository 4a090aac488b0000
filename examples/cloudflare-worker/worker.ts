/**
 * The token swap server on Cloudflare Workers: `createTokenServer` is a fetch handler, and
 * `loadTokenServerOptions` reads the bindings exactly as `spotify-session serve` reads its
 * environment (same names, same checks, same messages). Secrets are set with
 * `wrangler secret put` (see README.md), never in wrangler.toml.
 */
import {
  createTokenServer,
  loadTokenServerOptions,
  type TokenServer,
} from '@spotify-session/cli/server';

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
  /**
   * Optional, as documented for `serve`: RATE_LIMIT_IP, RATE_LIMIT_TOKEN,
   * RATE_LIMIT_WINDOW_S, UPSTREAM_TIMEOUT_MS, REFRESH_TOKEN_MAX_AGE_S ([vars]).
   */
  RATE_LIMIT_IP?: string;
  RATE_LIMIT_TOKEN?: string;
  RATE_LIMIT_WINDOW_S?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  REFRESH_TOKEN_MAX_AGE_S?: string;
}

/** The part of Workers' ExecutionContext the server may use. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

// One server per isolate: the keys are parsed (and imported as non-extractable
// CryptoKeys) once, not on every request. Bindings do not change within an isolate.
let server: TokenServer | undefined;

/** The server, or the problems with the bindings (each names the binding, never a secret). */
function tokenServer(env: Env): TokenServer | string[] {
  if (server !== undefined) return server;
  const loaded = loadTokenServerOptions(env);
  if (!loaded.ok) return loaded.problems;
  try {
    server = createTokenServer({
      ...loaded.options,
      // Cloudflare sets the visitor's address; there is no socket to read on Workers.
      clientIp: (request: Request) => request.headers.get('cf-connecting-ip') ?? undefined,
      // Rate limits are counted per isolate: add a Cloudflare rate limiting rule on /swap
      // and /refresh for a global limit. Logs are JSON lines through console.log
      // (`wrangler tail`, Workers Logs).
    });
  } catch (error) {
    return [error instanceof Error ? error.message : 'the token server is misconfigured'];
  }
  return server;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const handler = tokenServer(env);
    if (Array.isArray(handler)) {
      // Missing or invalid bindings. Answer JSON, as the mobile SDKs cannot parse
      // Cloudflare's HTML error page, and build the server again on the next request once
      // they are fixed.
      // biome-ignore lint/suspicious/noConsole: on Workers, console is where logs go.
      for (const problem of handler) console.error(problem);
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
