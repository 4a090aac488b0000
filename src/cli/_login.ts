/**
 * `spotify-session login`: the authorization code flow with PKCE and a loopback redirect
 * (RFC 8252 §7.3), as Spotify recommends for apps that cannot keep a secret.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AuthorizationError, Session } from '../core/index.js';
import { bindServer, closeNow } from '../node/_listen.js';
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

  let settle: { resolve: (url: string) => void; reject: (error: unknown) => void } | undefined;
  const callbackUrl = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let finish: ((status: number, html: string) => Promise<void>) | undefined;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== '/callback' || finish !== undefined) {
      void answer(
        response,
        404,
        page('Not found', 'This address only receives the Spotify login.'),
      );
      return;
    }
    finish = (status, html) => answer(response, status, html);
    settle?.resolve(`http://127.0.0.1${request.url ?? '/'}`);
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
  const spinner = await createSpinner();
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
    const received = await callbackUrl;
    let code: string;
    try {
      code = session.getCodeFromCallback(received, state);
    } catch (error) {
      const denied = error instanceof AuthorizationError && error.reason === 'access_denied';
      await finish?.(
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
      await finish?.(500, page('Login failed', 'Go back to the terminal to see why.'));
      throw error;
    }
    await saveProfileSettings(profile, {
      clientId,
      ...(accountsUrl === undefined ? {} : { accountsUrl }),
      ...(apiUrl === undefined ? {} : { apiUrl }),
    });
    await finish?.(
      200,
      page('Logged in', 'spotify-session has your token. You can close this tab.'),
    );
    spinner.stop(
      `Logged in (profile "${profile.name}", scopes: ${session.getScope().join(' ') || 'none'})`,
    );
  } catch (error) {
    spinner.error('Login failed');
    throw error;
  } finally {
    clearTimeout(timer);
    await closeNow(server);
  }
}
