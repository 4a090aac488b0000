import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenRequestReplay, formEncode } from './_token-request-replay.js';
import {
  authorizationCodeGrant,
  type ClientConfig,
  clientCredentialsGrant,
  refreshTokenGrant,
  resolveClientConfig,
  withTokenRequestReplay,
} from './grants.js';

interface Sent {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: string;
  redirect: string | undefined;
}

/** A client whose fetch records each request and answers a valid token response. */
function recordingClient(
  confidential: boolean,
  replay: boolean,
): { config: ClientConfig; sent: Sent[]; bodyTypes: string[] } {
  const sent: Sent[] = [];
  const bodyTypes: string[] = [];
  const config = resolveClientConfig({
    clientId: 'replay-client',
    ...(confidential ? { clientSecret: 'replay-secret' } : {}),
    accountsUrl: 'http://127.0.0.1:9',
    fetch: async (url, init = {}) => {
      bodyTypes.push(init.body instanceof URLSearchParams ? 'URLSearchParams' : typeof init.body);
      sent.push({
        url: String(url),
        method: init.method,
        headers: { ...(init.headers as Record<string, string>) },
        body: String(init.body),
        redirect: init.redirect,
      });
      return Response.json({ access_token: 'A', token_type: 'Bearer', expires_in: 3600 });
    },
  });
  return {
    config: replay ? withTokenRequestReplay(config, createTokenRequestReplay()) : config,
    sent,
    bodyTypes,
  };
}

const formText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(..."!'()~*-._ %+&=aZ9é\u{1F600}"), maxLength: 20 }),
);
/** Values the grant functions accept (visible text, no whitespace). */
const token = fc.string({
  unit: fc.constantFrom(..."aZ9-._~!'()*%+&=/?#é"),
  minLength: 1,
  maxLength: 30,
});

describe('formEncode', () => {
  it('writes what URLSearchParams writes, for any text', () => {
    fc.assert(
      fc.property(formText, (text) => {
        expect(formEncode(text)).toBe(new URLSearchParams([['', text]]).toString().slice(1));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('token request replay', () => {
  const grants = {
    refresh: (config: ClientConfig, value: string) =>
      refreshTokenGrant(config, { refreshToken: value }),
    code: (config: ClientConfig, value: string) =>
      authorizationCodeGrant(config, {
        code: value,
        redirectUri: `app://cb/${value}`,
        codeVerifier: 'v'.repeat(43),
      }),
    'code without PKCE': (config: ClientConfig, value: string) =>
      authorizationCodeGrant(config, { code: value, redirectUri: 'app://cb' }),
    'client credentials': (config: ClientConfig, value: string) =>
      clientCredentialsGrant(config, { scope: [value] }),
  };

  for (const confidential of [true, false]) {
    for (const [name, grant] of Object.entries(grants)) {
      if (!confidential && (name === 'client credentials' || name === 'code without PKCE'))
        continue;
      it(`sends, replayed, exactly what oauth4webapi builds (${name}, ${confidential ? 'confidential' : 'public'} client)`, async () => {
        const replayed = recordingClient(confidential, true);
        await grant(replayed.config, 'first-value');
        await fc.assert(
          fc.asyncProperty(token, async (value) => {
            const fresh = recordingClient(confidential, false);
            await grant(fresh.config, value);
            await grant(replayed.config, value);
            expect(replayed.sent.at(-1)).toEqual(fresh.sent.at(-1));
          }),
          { numRuns: 150 },
        );
        // oauth4webapi built the first request (a URLSearchParams body); the replay sent the
        // other 150 (text bodies).
        expect(replayed.bodyTypes).toEqual(['URLSearchParams', ...Array(150).fill('string')]);
      });
    }
  }

  it('learns each shape apart: with and without a PKCE verifier', async () => {
    const replayed = recordingClient(true, true);
    const fresh = recordingClient(true, false);
    for (const config of [replayed.config, fresh.config]) {
      await grants.code(config, 'c1');
      await grants['code without PKCE'](config, 'c2');
      await grants.code(config, 'c3');
      await grants['code without PKCE'](config, 'c4');
    }
    expect(replayed.sent).toEqual(fresh.sent);
    expect(replayed.sent[3]?.body).toBe(
      'redirect_uri=app%3A%2F%2Fcb&code=c4&grant_type=authorization_code',
    );
  });
});
