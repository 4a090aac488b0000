/**
 * The reference the token server is measured against (bench only): a minimal `node:http` +
 * `node:crypto` refresh proxy doing the same work — read the form, unseal the envelope
 * (AES-256-GCM, the token server's v1 format), POST the refresh grant upstream over a
 * keep-alive agent, parse the JSON, seal a rotated refresh token, answer JSON.
 * Env: UPSTREAM_URL, TOKEN_ENCRYPTION_KEYS (one `kid:secret`), CLIENT_ID, CLIENT_SECRET.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest } from 'node:http';

const { UPSTREAM_URL, TOKEN_ENCRYPTION_KEYS, CLIENT_ID, CLIENT_SECRET } = process.env;
const [kid, secret] = TOKEN_ENCRYPTION_KEYS.split(':');
const key = createSecretKey(Buffer.from(secret, 'base64url'));
const aad = Buffer.from(`spotify-session/refresh-token.v1.${kid}.${CLIENT_ID}`);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const tokenUrl = new URL('/api/token', UPSTREAM_URL);
const authorization = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

function unseal(sealed) {
  const [version, keyId, body, extra] = sealed.split('.');
  if (version !== 'v1' || keyId !== kid || body === undefined || extra !== undefined) return;
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length < 12 + 9 + 16) return;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  try {
    const plain = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()]);
    return { issuedAt: plain.readBigUInt64BE(0), refreshToken: plain.toString('utf8', 8) };
  } catch {
    return undefined;
  }
}

function seal(refreshToken, issuedAt) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const plain = Buffer.alloc(8 + Buffer.byteLength(refreshToken));
  plain.writeBigUInt64BE(issuedAt, 0);
  plain.write(refreshToken, 8);
  const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `v1.${kid}.${sealed.toString('base64url')}`;
}

function answer(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    const opened = unseal(form.get('refresh_token') ?? '');
    if (opened === undefined) {
      return answer(response, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
    }
    const upstreamBody = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: opened.refreshToken,
    }).toString();
    const upstream = httpRequest(tokenUrl, {
      method: 'POST',
      agent,
      headers: {
        authorization,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(upstreamBody),
      },
    });
    upstream.on('response', (reply) => {
      const parts = [];
      reply.on('data', (chunk) => parts.push(chunk));
      reply.on('end', () => {
        const tokens = JSON.parse(Buffer.concat(parts).toString());
        if (reply.statusCode !== 200) return answer(response, 502, { error: 'server_error' });
        const rotated =
          tokens.refresh_token !== undefined && tokens.refresh_token !== opened.refreshToken;
        answer(response, 200, {
          access_token: tokens.access_token,
          token_type: tokens.token_type,
          expires_in: tokens.expires_in,
          scope: tokens.scope,
          ...(rotated ? { refresh_token: seal(tokens.refresh_token, opened.issuedAt) } : {}),
        });
      });
    });
    upstream.on('error', () => answer(response, 502, { error: 'server_error' }));
    upstream.end(upstreamBody);
  });
}).listen(0, '127.0.0.1', function () {
  process.stdout.write(`${JSON.stringify({ port: this.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
