/**
 * `spotify-session login`: the authorization code flow with PKCE and a loopback redirect
 * (RFC 8252 §7.3), as Spotify recommends for apps that cannot keep a secret.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AuthorizationError, DEFAULT_ACCOUNTS_URL, Session } from '../core/index.js';
import { bindServer, closeNow } from '../node/internal.js';
import { CommandError, EXIT } from './_exit-codes.js';
import {
  openProfile,
  type ProfileFlags,
  resolveAccountsUrl,
  resolveApiUrl,
  resolveClientId,
  saveProfileSettings,
} from './_profile.js';

/** Flags of `login`. */
export interface LoginFlags extends ProfileFlags {
  scope?: string[] | undefined;
  port: number;
  open: boolean;
  timeout: number;
}

const PAGE_STYLE =
  'font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;line-height:1.5;color:#191414';

function page(title: string, text: string): string {
  const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="${PAGE_STYLE}"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
}

function answer(response: ServerResponse, status: number, html: string): Promise<void> {
  const sent = new Promise<void>((resolve) => {
    response.once('finish', resolve);
    response.once('close', resolve);
  });
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
  });
  response.end(html);
  return sent;
}

interface Spinner {
  start(message: string): void;
  stop(message: string): void;
  error(message: string): void;
}

async function createSpinner(): Promise<Spinner> {
  if (process.stderr.isTTY) {
    const { spinner } = await import('@clack/prompts');
    const s = spinner({ output: process.stderr });
    return { start: (m) => s.start(m), stop: (m) => s.stop(m), error: (m) => s.error(m) };
  }
  // Not a terminal: plain lines, no escape codes in logs.
  const line = (m: string) => process.stderr.write(`${m}\n`);
  return { start: line, stop: line, error: line };
}

/** Milliseconds the up-front check of the Accounts service may take. */
const PROBE_TIMEOUT_MS = 5_000;

/** What this login's callback said: the code, or why there is none. */
interface Outcome {
  code: string | undefined;
  error: unknown;
}

/** The callback's outcome and the answer to its browser tab, sent once the login is over. */
interface Callback extends Outcome {
  finish: (status: number, html: string) => Promise<void>;
}

/** Runs the login; resolves once the tokens are stored. */
export async function login(flags: LoginFlags, env: NodeJS.ProcessEnv): Promise<void> {
  const profile = await openProfile(flags, env);
  const clientId = resolveClientId(flags, env, profile);
  if (clientId === undefined) {
    throw new CommandError(
      EXIT.usage,
      'No client id: pass --client-id or set SPOTIFY_CLIENT_ID (your app in https://developer.spotify.com/dashboard)',
    );
  }
  const accountsUrl = resolveAccountsUrl(env, profile);
  const apiUrl = resolveApiUrl(env, profile);
  const scope = (flags.scope ?? ['user-read-private'])
    .flatMap((entry) => entry.split(/[\s,]+/))
    .filter(Boolean);

  let settle:
    | { resolve: (callback: Callback) => void; reject: (error: unknown) => void }
    | undefined;
  const callbackReceived = new Promise<Callback>((resolve, reject) => {
    settle = { resolve, reject };
  });
  /** Set once the authorize URL exists: reads a callback, or refuses one of another login. */
  let readCallback: ((url: string) => Outcome | 'other-login') | undefined;
  let received = false;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== '/callback' || received) {
      void answer(
        response,
        404,
        page('Not found', 'This address only receives the Spotify login.'),
      );
      return;
    }
    const finish = (status: number, html: string) => answer(response, status, html);
    const callback = readCallback?.(`http://127.0.0.1${request.url ?? '/'}`) ?? 'other-login';
    if (callback === 'other-login') {
      // Any local process or web page can send this address a request: only the answer to
      // this login (its state) may end it. Keep waiting for that one.
      void finish(
        400,
        page(
          'Not this login',
          'This callback does not match the login in progress, so it was ignored. If you started a login, finish it in the browser window it opened, or run the command again.',
        ),
      );
      return;
    }
    received = true;
    settle?.resolve({ ...callback, finish });
  });
  let port: number;
  try {
    ({ port } = await bindServer(server, flags.port, '127.0.0.1'));
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new CommandError(
      EXIT.failed,
      code === 'EADDRINUSE'
        ? `Port ${flags.port} on 127.0.0.1 is in use: pass another --port (and register http://127.0.0.1:PORT/callback for your app)`
        : `Cannot listen on 127.0.0.1:${flags.port}: ${message}`,
    );
  }
  let spinner: Spinner | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const session = new Session({
      clientId,
      redirectUri,
      ...(accountsUrl === undefined ? {} : { accountsUrl }),
      store: profile.store,
      storeKey: profile.name,
    });
    const verifier = Session.generateCodeVerifier();
    const state = Session.generateState();
    const authorizeUrl = session.getAuthorizeUrl({
      scope,
      state,
      codeChallenge: await Session.generateCodeChallenge(verifier),
    });
    await checkAuthorizeUrl(authorizeUrl, { clientId, redirectUri });
    readCallback = (url) => {
      try {
        return { code: session.getCodeFromCallback(url, state), error: undefined };
      } catch (error) {
        const reason = error instanceof AuthorizationError ? error.reason : undefined;
        if (reason === 'state_mismatch' || reason === 'invalid_callback') return 'other-login';
        return { code: undefined, error };
      }
    };
    process.stderr.write(
      `Log in to Spotify in your browser. If it does not open, open this URL:\n\n  ${authorizeUrl}\n\nRedirect URI (register it for your app): ${redirectUri}\n`,
    );
    if (flags.open) {
      try {
        const { default: open } = await import('open');
        const child = await open(authorizeUrl);
        child.on('error', () => {});
      } catch {
        // The URL is printed above; a missing browser is not a failure.
      }
    }
    spinner = await createSpinner();
    spinner.start('Waiting for the login in the browser');
    timer = setTimeout(
      () =>
        settle?.reject(
          new CommandError(
            EXIT.failed,
            `No login within ${Math.round(flags.timeout / 1000)} s: run the command again (or raise --timeout)`,
          ),
        ),
      flags.timeout,
    );
    const { code, error, finish } = await callbackReceived;
    if (code === undefined) {
      const denied = error instanceof AuthorizationError && error.reason === 'access_denied';
      await finish(
        400,
        page(
          denied ? 'Login cancelled' : 'Login failed',
          denied
            ? 'You did not allow access. You can close this tab.'
            : 'The answer from Spotify could not be used. Go back to the terminal.',
        ),
      );
      throw denied
        ? new CommandError(EXIT.failed, 'Login cancelled in the browser: nothing was stored')
        : error;
    }
    try {
      await session.requestAccessToken(code, verifier);
    } catch (error) {
      await finish(500, page('Login failed', 'Go back to the terminal to see why.'));
      throw error;
    }
    await saveProfileSettings(profile, {
      clientId,
      ...(accountsUrl === undefined ? {} : { accountsUrl }),
      ...(apiUrl === undefined ? {} : { apiUrl }),
    });
    await finish(200, page('Logged in', 'spotify-session has your token. You can close this tab.'));
    spinner.stop(
      `Logged in (profile "${profile.name}", scopes: ${session.getScope().join(' ') || 'none'})`,
    );
  } catch (error) {
    spinner?.error('Login failed');
    throw error;
  } finally {
    clearTimeout(timer);
    await closeNow(server);
  }
}

/**
 * Asks the Accounts service for the authorize page once before anyone waits on the browser,
 * so an unknown client id, an unregistered redirect URI or an unreachable
 * SPOTIFY_ACCOUNTS_URL fails in seconds instead of after --timeout. Spotify (and the emulator)
 * show an `INVALID_CLIENT: …` page for the first two instead of redirecting
 * (https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow); a redirect
 * back to the redirect URI with `error` (an unknown scope) is final too. Anything else (a
 * redirect to the login page, the consent page) means the browser can take it from here.
 */
async function checkAuthorizeUrl(
  authorizeUrl: string,
  app: { clientId: string; redirectUri: string },
): Promise<void> {
  const origin = new URL(authorizeUrl).origin;
  const where = `the Accounts service at ${origin} (SPOTIFY_ACCOUNTS_URL)`;
  let response: Response;
  try {
    response = await fetch(authorizeUrl, {
      redirect: 'manual',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
        : (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ??
          (error as Error).message);
    throw new CommandError(
      EXIT.failed,
      `Cannot reach ${where}: ${reason}. Check SPOTIFY_ACCOUNTS_URL (unset means ${DEFAULT_ACCOUNTS_URL}) and the network`,
      { cause: error },
    );
  }
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    const back = location === null ? undefined : new URL(location, origin);
    const error = back?.href.startsWith(app.redirectUri) ? back.searchParams.get('error') : null;
    if (error !== null && error !== undefined) {
      throw new CommandError(
        EXIT.usage,
        `${where} refused the login at once: ${error}${error === 'invalid_scope' ? ' (a --scope Spotify does not know)' : ''}`,
      );
    }
    return;
  }
  const text = (await response.text()).slice(0, 64 * 1024);
  const refusal = /INVALID_CLIENT:\s*([^<\n]+)/.exec(text)?.[1]?.trim();
  if (refusal !== undefined) {
    const advice = /redirect uri/i.test(refusal)
      ? `register ${app.redirectUri} for the app in https://developer.spotify.com/dashboard ` +
        '(http://127.0.0.1/callback without a port accepts any --port), or pass the --port you registered'
      : `use your app's client id from https://developer.spotify.com/dashboard (--client-id or SPOTIFY_CLIENT_ID; this was ${app.clientId})`;
    throw new CommandError(EXIT.usage, `${where} answered "INVALID_CLIENT: ${refusal}": ${advice}`);
  }
  if (response.status >= 500) {
    throw new CommandError(
      EXIT.failed,
      `${where} answered HTTP ${response.status} to GET /authorize: try again later`,
    );
  }
  if (response.status >= 400) {
    throw new CommandError(
      EXIT.usage,
      `${where} answered HTTP ${response.status} to GET /authorize: is SPOTIFY_ACCOUNTS_URL the Accounts service (not the Web API)?`,
    );
  }
}
