/**
 * An independent, certified OAuth 2.0 server (panva's oidc-provider v9) set
 * up with Spotify's paths, for proving the Session speaks standard OAuth and
 * not only the emulator's dialect.
 *
 * Login and consent are answered by a tiny interaction handler that logs in
 * `demo-user` and grants whatever is asked, so a test drives the whole
 * authorization with plain `fetch` (manual redirects plus a cookie jar, see
 * {@link followToCallback}).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** The redirect URI both clients register (a loopback literal, as Spotify wants). */
export const OIDC_REDIRECT_URI = 'http://127.0.0.1:8888/callback';
/** Resource indicator standing in for Spotify's Web API. */
export const OIDC_RESOURCE = 'urn:spotify-session:test-api';
/** Non-OIDC scopes the resource knows (Spotify scope names). */
export const OIDC_SCOPES = ['playlist-read-private', 'user-read-private', 'user-read-email'];

export const CONFIDENTIAL_CLIENT = {
  clientId: 'confidential-app',
  clientSecret: 'confidential-app-secret-0123456789',
} as const;
export const PUBLIC_CLIENT = { clientId: 'public-app' } as const;

export interface RunningProvider {
  /** Base URL (`http://127.0.0.1:PORT`): the Session's `accountsUrl`. */
  url: string;
  provider: Provider;
  close(): Promise<void>;
}

async function interaction(provider: Provider, req: IncomingMessage, res: ServerResponse) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  if (prompt.name === 'login') {
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: 'demo-user' } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  // consent: grant exactly what is missing, as a user clicking "Agree" would.
  const grant =
    grantId === undefined
      ? new provider.Grant({
          accountId: session?.accountId as string,
          clientId: params.client_id as string,
        })
      : await provider.Grant.find(grantId);
  if (grant === undefined) throw new Error('grant vanished');
  const missing = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const savedGrantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { consent: { grantId: savedGrantId } },
    { mergeWithLastSubmission: true },
  );
}

/** Starts oidc-provider on 127.0.0.1 with a free port. */
export async function startOidcProvider(): Promise<RunningProvider> {
  let provider: Provider | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (provider === undefined || handler === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  provider = new Provider(url, {
    routes: { authorization: '/authorize', token: '/api/token' },
    clients: [
      {
        client_id: CONFIDENTIAL_CLIENT.clientId,
        client_secret: CONFIDENTIAL_CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [OIDC_REDIRECT_URI],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      },
      {
        client_id: PUBLIC_CLIENT.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [OIDC_REDIRECT_URI],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
    // As at Spotify: a public client must use PKCE (S256, oidc-provider's only method);
    // a confidential one may, and may also exchange a code without it.
    pkce: {
      required: (_ctx: unknown, client: { clientAuthMethod: string }) =>
        client.clientAuthMethod === 'none',
    },
    scopes: ['openid', 'offline_access', ...OIDC_SCOPES],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Spotify has one resource (the Web API): requests without `resource` get it.
        defaultResource: () => OIDC_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: OIDC_SCOPES.join(' '),
          accessTokenFormat: 'opaque',
          audience: OIDC_RESOURCE,
        }),
      },
    },
    // Spotify issues a refresh token with every code exchange, without offline_access.
    issueRefreshToken: () => true,
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    cookies: { keys: ['spotify-session-test-cookie-key'] },
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 15_552_000,
      RefreshToken: 15_552_000,
    },
  });
  handler = provider.callback();

  return {
    url,
    provider,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

/**
 * Follows redirects from the authorize URL through login and consent with a
 * cookie jar, like a browser whose user approves, and returns the callback
 * URL (the first redirect to {@link OIDC_REDIRECT_URI}).
 */
export async function followToCallback(authorizeUrl: string): Promise<string> {
  const jar = new Map<string, string>();
  let next = authorizeUrl;
  for (let hop = 0; hop < 12; hop++) {
    const response = await fetch(next, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair !== undefined && eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    const body = await response.text();
    if (location === null) {
      throw new Error(`oidc-provider stopped at HTTP ${response.status}: ${body.slice(0, 300)}`);
    }
    const target = new URL(location, next);
    if (target.href.startsWith(OIDC_REDIRECT_URI)) return target.href;
    next = target.href;
  }
  throw new Error('too many redirects');
}
