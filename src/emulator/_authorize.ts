import type { Context, Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { readBoundedText } from './_body.js';
import { consentPage, errorPage, PAGE_HEADERS } from './_consent-page.js';
import { randomToken } from './_crypto.js';
import type { ResolvedOptions } from './_options.js';
import { isAllowedRedirectUri, matchesRegisteredRedirectUri, redirectTo } from './_redirect-uri.js';
import { parseScopes } from './_scopes.js';
import type { EmulatorState } from './_state.js';

/** Cookie naming the browser's emulator login, so an earlier approval can skip the page. */
const SESSION_COOKIE = 'spotify_emulator_session';

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_FORM_BYTES = 8 * 1024;

function htmlError(c: Context, message: string): Response {
  return c.html(errorPage(message), 400, PAGE_HEADERS);
}

function redirect(c: Context, location: string): Response {
  return c.body(null, 302, { Location: location, 'Cache-Control': 'no-store' });
}

/**
 * `GET /authorize` and the consent form's `POST /authorize/decision`
 * (https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow).
 */
export function registerAuthorize(app: Hono, options: ResolvedOptions, state: EmulatorState): void {
  app.get('/authorize', (c) => {
    const query = new URL(c.req.url).searchParams;
    const client = options.apps.get(query.get('client_id') ?? '');
    if (client === undefined) return htmlError(c, 'INVALID_CLIENT: Invalid client');

    const redirectUri = query.get('redirect_uri') ?? '';
    const verdict = isAllowedRedirectUri(redirectUri);
    if (verdict === 'insecure') return htmlError(c, 'INVALID_CLIENT: Insecure redirect URI');
    if (verdict === 'invalid' || !matchesRegisteredRedirectUri(redirectUri, client.redirectUris))
      return htmlError(c, 'INVALID_CLIENT: Invalid redirect URI');

    // From here on the redirect URI is trusted, so errors go back to the app.
    const stateParam = query.get('state') ?? undefined;
    const fail = (error: string) =>
      redirect(c, redirectTo(redirectUri, { error, state: stateParam }));

    if (query.get('response_type') !== 'code') return fail('unsupported_response_type');
    const scopes = parseScopes(query.get('scope') ?? undefined);
    if (scopes === undefined) return fail('invalid_scope');

    const method = query.get('code_challenge_method') ?? undefined;
    const challenge = query.get('code_challenge') ?? undefined;
    if (method !== undefined || challenge !== undefined) {
      // Spotify supports S256 only; RFC 7636's implicit `plain` default is refused too.
      if (method !== 'S256' || challenge === undefined || !CODE_CHALLENGE.test(challenge))
        return fail('invalid_request');
    }

    const approveAs = (userId: string) =>
      redirect(
        c,
        redirectTo(redirectUri, {
          code: state.issueCode({
            clientId: client.clientId,
            userId,
            scopes,
            redirectUri,
            codeChallenge: challenge,
          }),
          state: stateParam,
        }),
      );

    if (options.autoApproveUserId !== undefined) return approveAs(options.autoApproveUserId);

    const sessionUser = state.sessions.get(getCookie(c, SESSION_COOKIE) ?? '');
    if (
      query.get('show_dialog') !== 'true' &&
      sessionUser !== undefined &&
      state.isApproved(sessionUser, client.clientId, scopes)
    )
      return approveAs(sessionUser);

    const transactionId = randomToken('', 32);
    state.transactions.set(transactionId, {
      clientId: client.clientId,
      redirectUri,
      scopes,
      state: stateParam,
      codeChallenge: challenge,
      expiresAt: state.now() + options.codeLifetime * 1000,
    });
    return c.html(
      consentPage({
        app: client,
        users: options.users,
        scopes,
        redirectUri,
        transactionId,
        action: 'authorize/decision',
      }),
      200,
      PAGE_HEADERS,
    );
  });

  app.post('/authorize/decision', async (c) => {
    const type = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded')
      return htmlError(c, 'INVALID_REQUEST: Unexpected form encoding');
    const text = await readBoundedText(c.req.raw, MAX_FORM_BYTES);
    if (text === undefined)
      return c.html(errorPage('INVALID_REQUEST: Form too large'), 413, {
        ...PAGE_HEADERS,
        Connection: 'close',
      });
    const form = new URLSearchParams(text);

    const transactionId = form.get('transaction') ?? '';
    const transaction = state.transactions.get(transactionId);
    // Single use: a replayed or forged form never reaches the redirect.
    state.transactions.delete(transactionId);
    if (transaction === undefined || transaction.expiresAt <= state.now())
      return htmlError(
        c,
        'INVALID_REQUEST: This authorization request has expired or was already answered. Start again from the app.',
      );

    const decision = form.get('decision');
    if (decision === 'cancel')
      return redirect(
        c,
        redirectTo(transaction.redirectUri, { error: 'access_denied', state: transaction.state }),
      );
    if (decision !== 'agree') return htmlError(c, 'INVALID_REQUEST: Unknown decision');

    const user = options.users.find((candidate) => candidate.id === form.get('user'));
    if (user === undefined) return htmlError(c, 'INVALID_REQUEST: Unknown user');

    state.approve(user.id, transaction.clientId, transaction.scopes);
    const sessionId = randomToken('', 32);
    state.sessions.set(sessionId, user.id);
    setCookie(c, SESSION_COOKIE, sessionId, { path: '/', httpOnly: true, sameSite: 'Lax' });
    const code = state.issueCode({
      clientId: transaction.clientId,
      userId: user.id,
      scopes: transaction.scopes,
      redirectUri: transaction.redirectUri,
      codeChallenge: transaction.codeChallenge,
    });
    return redirect(c, redirectTo(transaction.redirectUri, { code, state: transaction.state }));
  });
}
