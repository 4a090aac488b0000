import fc from 'fast-check';
import { expect, test } from 'vitest';
import { escapeHtml } from './_consent-page.js';
import { constantTimeEqual, randomToken, sha256Base64url } from './_crypto.js';

test('S256 matches the RFC 7636 Appendix B example', async () => {
  await expect(sha256Base64url('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe(
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  );
});

test('randomToken: prefix + base64url of the requested bytes, never repeated', () => {
  const a = randomToken('BQ', 32);
  expect(a).toMatch(/^BQ[A-Za-z0-9_-]{43}$/);
  expect(randomToken('BQ', 32)).not.toBe(a);
});

test('constantTimeEqual', async () => {
  await expect(constantTimeEqual('secret', 'secret')).resolves.toBe(true);
  await expect(constantTimeEqual('secret', 'secreT')).resolves.toBe(false);
  await expect(constantTimeEqual('secret', 'secret2')).resolves.toBe(false);
});

test('escapeHtml leaves no markup-significant character', () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      expect(escapeHtml(text)).not.toMatch(/[<>"']/);
      expect(escapeHtml(text).replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
    }),
  );
});
