import type { EmulatorApp, EmulatorUser } from './_options.js';
import { describeScope } from './_scopes.js';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Headers of every HTML page: no caching, no framing (clickjacking on a
 * consent page), no inline script, no referrer leaking the query.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
});

const STYLE = `body{font-family:system-ui,sans-serif;background:#121212;color:#fff;display:flex;justify-content:center;padding:2rem}
main{max-width:28rem;width:100%}h1{font-size:1.4rem}fieldset{border:1px solid #333;border-radius:8px;margin:1rem 0}
ul{padding-left:1.2rem}li{margin:.3rem 0}code{color:#1ed760}.buttons{display:flex;gap:1rem}
button{border:0;border-radius:999px;padding:.7rem 1.6rem;font-weight:bold;cursor:pointer}
button[value=agree]{background:#1ed760;color:#000}button[value=cancel]{background:#333;color:#fff}
.error{border:1px solid #e22134;border-radius:8px;padding:1rem}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body>
</html>`;
}

/** The page `/authorize` shows instead of redirecting, e.g. `INVALID_CLIENT: Invalid client`. */
export function errorPage(message: string): string {
  return page(
    'Error - Spotify Accounts emulator',
    `<h1>Oops! Something went wrong</h1><p class="error" id="error">${escapeHtml(message)}</p>`,
  );
}

/** What the consent page shows. */
export interface ConsentPageInput {
  app: EmulatorApp;
  users: readonly EmulatorUser[];
  scopes: readonly string[];
  redirectUri: string;
  transactionId: string;
  /** Where the form posts to. */
  action: string;
}

/** The consent page: pick a user, see the scopes, Agree or Cancel. */
export function consentPage(input: ConsentPageInput): string {
  const users = input.users
    .map(
      (user, index) =>
        `<label><input type="radio" name="user" value="${escapeHtml(user.id)}"${index === 0 ? ' checked' : ''}> ${escapeHtml(user.displayName)} <small>(${escapeHtml(user.id)}, ${escapeHtml(user.product)})</small></label><br>`,
    )
    .join('\n');
  const scopes =
    input.scopes.length === 0
      ? '<p>No scopes: the app can only read your public profile.</p>'
      : `<ul id="scopes">${input.scopes
          .map(
            (scope) =>
              `<li><code>${escapeHtml(scope)}</code> — ${escapeHtml(describeScope(scope))}</li>`,
          )
          .join('')}</ul>`;
  return page(
    'Authorize - Spotify Accounts emulator',
    `<h1>Connect <span id="client-id">${escapeHtml(input.app.clientId)}</span> to Spotify</h1>
<p>Local Spotify Accounts emulator. You will be sent back to <code id="redirect-uri">${escapeHtml(input.redirectUri)}</code>.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="transaction" value="${escapeHtml(input.transactionId)}">
<fieldset><legend>Log in as</legend>
${users}
</fieldset>
<h2>The app asks to</h2>
${scopes}
<div class="buttons"><button type="submit" name="decision" value="agree" id="agree">Agree</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></div>
</form>`,
  );
}
