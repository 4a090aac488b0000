/**
 * The flows the runtime matrix runs on every runtime, written once in plain JavaScript with
 * web-standard globals only (fetch, URL, crypto, Request), so Node, Deno, Bun, workerd and
 * Chromium all execute this very file.
 *
 * It imports nothing: the generated entry of each runtime imports the BUILT package by its
 * public names (`spotify-session`, `spotify-session/server`, `spotify-session/api`) and hands
 * the modules in, so the runtime resolves them exactly as a user's program would.
 *
 * Every flow returns facts (never tokens) that the test asserts; a failure is caught per
 * flow and reported as `{ ok: false, error }` so one broken flow does not hide the others.
 */

/**
 * @typedef {object} FlowConfig
 * @property {string} accountsUrl the emulator, e.g. http://127.0.0.1:41234
 * @property {string} [apiUrl] the emulator's Web API base URL, e.g. http://127.0.0.1:41234/v1
 * @property {string} clientId
 * @property {string} clientSecret
 * @property {string} redirectUri an http://127.0.0.1:PORT/callback URI for the Session flows
 * @property {string} appRedirectUri an app-scheme URI for the token server's /swap
 * @property {string} encryptionKeys `kid:secret` for the token server
 * @property {string[]} flows the names of the flows to run, in order
 * @property {'fetch' | 'iframe'} [authorizeVia] how to pass /authorize (default: fetch)
 */

const SCOPE = ['user-read-private', 'user-read-email'];

/**
 * Passes Spotify's /authorize with the emulator's autoApprove and returns the callback URL.
 * A server-side runtime reads the 302's Location; a browser cannot (an opaque redirect), so
 * it lets a same-origin iframe follow the redirect back to its own /callback.
 * @param {string} url
 * @param {FlowConfig} config
 * @returns {Promise<string>}
 */
async function authorize(url, config) {
  if (config.authorizeVia === 'iframe') {
    const frame = document.createElement('iframe');
    const landed = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the callback never loaded')), 20_000);
      frame.addEventListener('load', () => {
        let href;
        try {
          href = frame.contentWindow?.location.href;
        } catch {
          return; // still on the emulator's origin
        }
        if (href?.includes('/callback')) {
          clearTimeout(timer);
          resolve(href);
        }
      });
    });
    frame.src = url;
    document.body.append(frame);
    try {
      return await landed;
    } finally {
      frame.remove();
    }
  }
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null) {
    throw new Error(`/authorize answered ${response.status} without a redirect`);
  }
  return location;
}

/** @param {unknown} value */
function describeError(value) {
  if (value instanceof Error) {
    const code = /** @type {{ code?: unknown }} */ (value).code;
    return `${value.name}${typeof code === 'string' ? ` (${code})` : ''}: ${value.message}`;
  }
  return String(value);
}

/** @param {string} url @param {Record<string, string>} fields */
function formRequest(url, fields) {
  return new Request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'cf-connecting-ip': '203.0.113.7',
    },
    body: new URLSearchParams(fields),
  });
}

/**
 * @param {{ core: any, server?: any, api?: any, stores?: any }} modules
 * @param {FlowConfig} config
 */
function defineFlows({ core, server, api, stores }, config) {
  const { Session } = core;
  const { accountsUrl, clientId, clientSecret, redirectUri } = config;

  /** Logs in with the authorization-code flow (confidential client) and returns the Session. */
  async function confidentialLogin() {
    const session = new Session({ clientId, clientSecret, redirectUri, accountsUrl });
    const state = Session.generateState();
    const callback = await authorize(session.getAuthorizeUrl({ scope: SCOPE, state }), config);
    await session.requestAccessToken(session.getCodeFromCallback(callback, state));
    return session;
  }

  /** Logs in with PKCE (public client: no secret) and returns the Session and the challenge. */
  async function pkceLogin() {
    const session = new Session({ clientId, redirectUri, accountsUrl });
    const verifier = Session.generateCodeVerifier();
    const state = Session.generateState();
    const codeChallenge = await Session.generateCodeChallenge(verifier);
    const url = session.getAuthorizeUrl({ scope: SCOPE, state, codeChallenge });
    const callback = await authorize(url, config);
    await session.requestAccessToken(session.getCodeFromCallback(callback, state), verifier);
    return { session, codeChallenge };
  }

  /** A page holds no client secret (`clientSecret: ''`): it logs in with PKCE. */
  async function login() {
    return clientSecret === '' ? (await pkceLogin()).session : confidentialLogin();
  }

  return {
    async 'authorization-code'() {
      const session = await confidentialLogin();
      return {
        accessToken: typeof session.getAccessToken() === 'string',
        refreshToken: typeof session.getRefreshToken() === 'string',
        scope: session.getScope(),
      };
    },

    async pkce() {
      const { session, codeChallenge } = await pkceLogin();
      const first = { access: session.getAccessToken(), refresh: session.getRefreshToken() };
      // A public client refreshes with client_id in the body and no secret.
      await session.refreshAccessToken();
      return {
        challengeLength: codeChallenge.length,
        accessToken: typeof first.access === 'string',
        refreshToken: typeof first.refresh === 'string',
        refreshedAccessTokenChanged: session.getAccessToken() !== first.access,
        refreshTokenRotated:
          typeof session.getRefreshToken() === 'string' &&
          session.getRefreshToken() !== first.refresh,
      };
    },

    async refresh() {
      const session = await confidentialLogin();
      const first = { access: session.getAccessToken(), refresh: session.getRefreshToken() };
      await session.refreshAccessToken();
      // Now through getValidAccessToken(): an expired token is renewed on demand.
      const second = session.getAccessToken();
      session.setTokenExpiration(Math.floor(Date.now() / 1000) - 1);
      const renewed = await session.getValidAccessToken();
      return {
        refreshedAccessTokenChanged: second !== first.access,
        refreshTokenRotated: session.getRefreshToken() !== first.refresh,
        validAccessTokenRenewed: renewed !== second,
        restoredFromJSON:
          Session.fromJSON(
            { clientId, clientSecret, accountsUrl },
            JSON.stringify(session),
          ).getAccessToken() === renewed,
      };
    },

    async 'client-credentials'() {
      const session = new Session({ clientId, clientSecret, accountsUrl });
      await session.requestCredentialsToken();
      // Restored from its JSON and expired, it asks for a new app token (it has no refresh token).
      const restored = Session.fromJSON(
        { clientId, clientSecret, accountsUrl },
        JSON.stringify(session),
      );
      restored.setTokenExpiration(Math.floor(Date.now() / 1000) - 1);
      const renewed = await restored.getValidAccessToken();
      return {
        accessToken: typeof session.getAccessToken() === 'string',
        refreshToken: session.getRefreshToken() ?? null,
        restoredRenews: typeof renewed === 'string' && renewed !== session.getAccessToken(),
      };
    },

    async 'memory-store'() {
      if (stores === undefined) throw new Error('spotify-session/stores was not imported');
      const store = new stores.MemoryStore();
      const storeKey = 'user-1';
      const first = new Session({
        clientId,
        clientSecret,
        redirectUri,
        accountsUrl,
        store,
        storeKey,
      });
      const state = Session.generateState();
      const callback = await authorize(first.getAuthorizeUrl({ scope: SCOPE, state }), config);
      await first.requestAccessToken(first.getCodeFromCallback(callback, state));
      // Another Session (another request, another isolate) on the same store and key.
      const second = new Session({ clientId, clientSecret, accountsUrl, store, storeKey });
      const loaded = await second.getValidAccessToken();
      second.setTokenExpiration(Math.floor(Date.now() / 1000) - 1);
      const renewed = await second.getValidAccessToken();
      const stored = await store.get(storeKey);
      return {
        loadedFromStore: loaded === first.getAccessToken(),
        renewed: renewed !== loaded,
        storedAfterRefresh: stored?.accessToken === renewed,
        rotatedRefreshTokenStored:
          stored?.refreshToken !== undefined && stored.refreshToken !== first.getRefreshToken(),
      };
    },

    async 'api-me'() {
      if (api === undefined) throw new Error('spotify-session/api was not imported');
      const session = await login();
      const before = session.getAccessToken();
      // Expired: the client must refresh through the Session before calling /v1/me.
      session.setTokenExpiration(Math.floor(Date.now() / 1000) - 1);
      const client = new api.SpotifyWebAPI({ apiUrl: config.apiUrl, autoRefresh: true }, session);
      const me = await client.me();
      return {
        id: me.id,
        refreshedFirst: session.getAccessToken() !== before,
      };
    },

    async 'token-server'() {
      if (server === undefined) throw new Error('spotify-session/server was not imported');
      const tokens = server.createTokenServer({
        clientId,
        clientSecret,
        redirectUris: [config.appRedirectUri],
        encryptionKeys: config.encryptionKeys,
        accountsUrl,
        clientIp: (/** @type {Request} */ request) =>
          request.headers.get('cf-connecting-ip') ?? undefined,
        logger: false,
      });
      const authorizeUrl = new URL('/authorize', accountsUrl);
      authorizeUrl.search = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: config.appRedirectUri,
        state: 'runtime-matrix',
      }).toString();
      const callback = new URL(
        await authorize(authorizeUrl.href, { ...config, authorizeVia: 'fetch' }),
      );
      const code = callback.searchParams.get('code') ?? '';
      const base = 'https://tokens.example.com';
      const swap = await tokens.fetch(formRequest(`${base}/swap`, { code }));
      const swapped = await swap.json();
      const refresh = await tokens.fetch(
        formRequest(`${base}/refresh`, { refresh_token: String(swapped.refresh_token) }),
      );
      const refreshed = await refresh.json();
      const garbage = await tokens.fetch(
        formRequest(`${base}/refresh`, { refresh_token: 'v1.x.AAAA' }),
      );
      return {
        swapStatus: swap.status,
        swapSealed: /^v1\./.test(String(swapped.refresh_token)),
        swapCacheControl: swap.headers.get('cache-control'),
        refreshStatus: refresh.status,
        refreshAccessTokenChanged: refreshed.access_token !== swapped.access_token,
        garbageStatus: garbage.status,
        garbageError: (await garbage.json()).error,
      };
    },
  };
}

/** The runtime's own name and version, as it reports them. */
function runtimeVersion() {
  const g = /** @type {any} */ (globalThis);
  if (g.Deno?.version?.deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `bun ${g.Bun.version}`;
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (g.process?.versions?.node && g.window === undefined) return `node ${g.process.versions.node}`;
  return String(g.navigator?.userAgent ?? 'unknown');
}

/**
 * Runs the flows named in `config.flows` and returns one JSON-serialisable result.
 * @param {{ core: any, server?: any, api?: any, stores?: any }} modules
 * @param {FlowConfig} config
 */
export async function runFlows(modules, config) {
  const flows = defineFlows(modules, config);
  /** @type {Record<string, unknown>} */
  const results = {};
  for (const name of config.flows) {
    const flow = /** @type {Record<string, () => Promise<object>>} */ (flows)[name];
    const started = Date.now();
    try {
      if (flow === undefined) throw new Error(`unknown flow ${name}`);
      const facts = await flow();
      results[name] = { ok: true, ms: Date.now() - started, ...facts };
    } catch (error) {
      results[name] = { ok: false, error: describeError(error) };
    }
  }
  return { runtime: runtimeVersion(), flows: results };
}
