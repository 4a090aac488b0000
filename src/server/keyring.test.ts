import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, InvalidArgumentError, SpotifyError } from '../core/errors/index.js';
import { type Aead, webCryptoAead } from './aead.js';
import { ISSUED_AT_MAX_SKEW, Keyring, MAX_SEALED_LENGTH, UnsealError } from './keyring.js';
import { createNodeAead } from './node/aead.js';

const CLIENT_ID = 'spotify-session-demo';
const TOKEN = 'AQCg7R8Xl3ZxH5o0Wm9vJ2kYbq1sT4nA_example-refresh-token_0123456789';
const DAY = 86_400;
const SIX_MONTHS = 15_552_000;
/** Fixed clock: 2026-11-22T00:00:00Z, in ms. */
const NOW_MS = Date.UTC(2026, 10, 22);
const NOW_S = NOW_MS / 1000;
const clock = () => NOW_MS;

const KEY_A = `ka:${base64url(bytes(32, 1))}`;
const KEY_B = `kb:${base64url(bytes(32, 2))}`;
const KEY_C = `kc:${base64url(bytes(32, 3))}`;

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17) & 0xff);
}

function base64url(data: Uint8Array): string {
  return btoa(String.fromCharCode(...data))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  const standard = text.replaceAll('-', '+').replaceAll('_', '/');
  return Uint8Array.from(atob(standard + '='.repeat((4 - (standard.length % 4)) % 4)), (c) =>
    c.charCodeAt(0),
  );
}

/** Runs `fn` and returns the UnsealError it must throw (fails the test otherwise). */
async function unsealFailure(fn: () => Promise<unknown>): Promise<UnsealError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof UnsealError) return error;
    throw new Error(`expected UnsealError, got ${String(error)}`);
  }
  throw new Error('expected UnsealError, but unseal succeeded');
}

const unsealOptions = { clientId: CLIENT_ID, maxAge: SIX_MONTHS, now: clock };

describe('Keyring seal/unseal', () => {
  let ring: Keyring;
  let sealed: string;

  beforeAll(async () => {
    ring = await Keyring.parse(KEY_A);
    sealed = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S - DAY });
  });

  it('round-trips the token and its issuedAt', async () => {
    await expect(ring.unseal(sealed, unsealOptions)).resolves.toEqual({
      refreshToken: TOKEN,
      issuedAt: NOW_S - DAY,
    });
  });

  it('round-trips non-ASCII tokens and defaults issuedAt to now', async () => {
    const before = Math.floor(Date.now() / 1000);
    const envelope = await ring.seal('tøken-✓', { clientId: CLIENT_ID });
    const opened = await ring.unseal(envelope, { clientId: CLIENT_ID, maxAge: 60 });
    expect(opened.refreshToken).toBe('tøken-✓');
    expect(opened.issuedAt).toBeGreaterThanOrEqual(before);
    expect(opened.issuedAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('writes v1.<kid>.<base64url> with only base64url characters and dots', () => {
    expect(sealed).toMatch(/^v1\.ka\.[A-Za-z0-9_-]+$/);
    // nonce 12 + issuedAt 8 + token + tag 16
    expect(fromBase64url(sealed.split('.')[2]!).length).toBe(12 + 8 + TOKEN.length + 16);
  });

  it('survives form encoding unchanged', async () => {
    const form = new URLSearchParams({ refresh_token: sealed }).toString();
    expect(form).toBe(`refresh_token=${sealed}`);
    const back = new URLSearchParams(form).get('refresh_token')!;
    await expect(ring.unseal(back, unsealOptions)).resolves.toMatchObject({ refreshToken: TOKEN });
  });

  it('uses a fresh nonce: sealing the same token twice gives different envelopes', async () => {
    const again = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S - DAY });
    expect(again).not.toBe(sealed);
    const nonceA = fromBase64url(sealed.split('.')[2]!).subarray(0, 12);
    const nonceB = fromBase64url(again.split('.')[2]!).subarray(0, 12);
    expect(nonceA).not.toEqual(nonceB);
  });

  it('refuses a change of any bit of any character of the envelope', async () => {
    let tried = 0;
    for (let position = 0; position < sealed.length; position++) {
      for (let bit = 0; bit < 7; bit++) {
        const changed = String.fromCharCode(sealed.charCodeAt(position) ^ (1 << bit));
        const tampered = sealed.slice(0, position) + changed + sealed.slice(position + 1);
        await unsealFailure(() => ring.unseal(tampered, unsealOptions));
        tried++;
      }
    }
    expect(tried).toBe(sealed.length * 7);
  });

  it('refuses a change of any bit of any byte of the decoded body (nonce, ciphertext, tag)', async () => {
    const body = fromBase64url(sealed.split('.')[2]!);
    for (let position = 0; position < body.length; position++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Uint8Array.from(body);
        copy[position]! ^= 1 << bit;
        await unsealFailure(() => ring.unseal(`v1.ka.${base64url(copy)}`, unsealOptions));
      }
    }
  });

  it('refuses the envelope truncated at every length, and with bytes appended', async () => {
    for (let length = 0; length < sealed.length; length++) {
      await unsealFailure(() => ring.unseal(sealed.slice(0, length), unsealOptions));
    }
    for (const suffix of ['A', 'AA', 'AAA', 'AAAA', '.', '=', ' ', '\n']) {
      await unsealFailure(() => ring.unseal(sealed + suffix, unsealOptions));
    }
  });

  it('refuses a body whose decoded bytes were cut at every length', async () => {
    const body = fromBase64url(sealed.split('.')[2]!);
    for (let length = 0; length < body.length; length++) {
      await unsealFailure(() =>
        ring.unseal(`v1.ka.${base64url(body.subarray(0, length))}`, unsealOptions),
      );
    }
  });

  it('refuses another version, an unknown key id, and a kid moved to another key', async () => {
    const [, , body] = sealed.split('.');
    await unsealFailure(() => ring.unseal(`v2.ka.${body}`, unsealOptions));
    await unsealFailure(() => ring.unseal(`v1.kz.${body}`, unsealOptions));
    // Same body under a kid that exists but is a different key.
    const both = await Keyring.parse(`${KEY_A},${KEY_B}`);
    await unsealFailure(() => both.unseal(`v1.kb.${body}`, unsealOptions));
  });

  it('refuses a token sealed under the same key id with a different secret', async () => {
    const impostor = await Keyring.fromKeys([{ id: 'ka', secret: bytes(32, 5) }]);
    await unsealFailure(() => impostor.unseal(sealed, unsealOptions));
    const forged = await impostor.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S });
    await unsealFailure(() => ring.unseal(forged, unsealOptions));
  });

  it('refuses a token sealed for another client id', async () => {
    await unsealFailure(() => ring.unseal(sealed, { ...unsealOptions, clientId: 'other-app' }));
    await unsealFailure(() => ring.unseal(sealed, { ...unsealOptions, clientId: '' }));
    await unsealFailure(() => ring.unseal(sealed, { ...unsealOptions, clientId: `${CLIENT_ID} ` }));
  });

  it('refuses a token older than maxAge, counted from issuedAt', async () => {
    const old = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S - SIX_MONTHS });
    await expect(ring.unseal(old, unsealOptions)).resolves.toMatchObject({ refreshToken: TOKEN });
    const later = () => NOW_MS + 1000;
    await unsealFailure(() => ring.unseal(old, { ...unsealOptions, now: later }));
    await unsealFailure(() => ring.unseal(sealed, { ...unsealOptions, maxAge: DAY - 1 }));
  });

  it('refuses an issuedAt in the future beyond the allowed clock skew', async () => {
    const edge = await ring.seal(TOKEN, {
      clientId: CLIENT_ID,
      issuedAt: NOW_S + ISSUED_AT_MAX_SKEW,
    });
    await expect(ring.unseal(edge, unsealOptions)).resolves.toMatchObject({ refreshToken: TOKEN });
    const future = await ring.seal(TOKEN, {
      clientId: CLIENT_ID,
      issuedAt: NOW_S + ISSUED_AT_MAX_SKEW + 1,
    });
    await unsealFailure(() => ring.unseal(future, unsealOptions));
  });

  it('refuses empty, oversized and non-string input', async () => {
    await unsealFailure(() => ring.unseal('', unsealOptions));
    const padded = `${sealed}${'A'.repeat(MAX_SEALED_LENGTH)}`;
    await unsealFailure(() => ring.unseal(padded, unsealOptions));
    await unsealFailure(() => ring.unseal(undefined as unknown as string, unsealOptions));
    await unsealFailure(() => ring.unseal({} as unknown as string, unsealOptions));
  });

  it('throws nothing but UnsealError for arbitrary strings', async () => {
    const envelopeLike = fc
      .tuple(
        fc.constantFrom('v1', 'v2', 'V1', ''),
        fc.constantFrom('ka', 'kb', 'kz', '', 'k.a'),
        fc.string({ unit: fc.constantFrom(...'AZaz09-_.=+/ '.split('')), maxLength: 200 }),
      )
      .map(([v, k, b]) => `${v}.${k}.${b}`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }), envelopeLike),
        async (input) => {
          await unsealFailure(() => ring.unseal(input, unsealOptions));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers every failure with the same error name, code and message, and no cause', async () => {
    const [, , body] = sealed.split('.');
    const old = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S - SIX_MONTHS - 1 });
    const future = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S + DAY });
    const retiredRing = await Keyring.parse(KEY_B);
    const failures = await Promise.all([
      unsealFailure(() => ring.unseal(`${sealed.slice(0, -1)}B`, unsealOptions)),
      unsealFailure(() => ring.unseal(sealed.slice(0, 40), unsealOptions)),
      unsealFailure(() => ring.unseal(`v1.kz.${body}`, unsealOptions)),
      unsealFailure(() => retiredRing.unseal(sealed, unsealOptions)),
      unsealFailure(() => ring.unseal(sealed, { ...unsealOptions, clientId: 'x' })),
      unsealFailure(() => ring.unseal(old, unsealOptions)),
      unsealFailure(() => ring.unseal(future, unsealOptions)),
      unsealFailure(() => ring.unseal('garbage', unsealOptions)),
      unsealFailure(() => ring.unseal('', unsealOptions)),
      unsealFailure(() => ring.unseal('A'.repeat(MAX_SEALED_LENGTH + 1), unsealOptions)),
    ]);
    const answers = failures.map((e) => ({
      name: e.name,
      message: e.message,
      code: e.code,
      cause: e.cause,
      keys: Object.keys(e),
      isSpotifyError: e instanceof SpotifyError,
    }));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ name: 'UnsealError', code: 'UNSEAL_FAILED' });
    expect(answers[0]?.cause).toBeUndefined();
    expect(answers[0]?.isSpotifyError).toBe(true);
    for (const failure of failures) {
      expect(failure.message).not.toContain(TOKEN);
      expect(failure.message).not.toContain('ka');
    }
  });

  it('refuses bad seal arguments with InvalidArgumentError', async () => {
    await expect(ring.seal('', { clientId: CLIENT_ID })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(ring.seal('x'.repeat(2049), { clientId: CLIENT_ID })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(ring.seal(TOKEN, { clientId: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: 1.5 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(ring.unseal(sealed, { clientId: CLIENT_ID, maxAge: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('keeps the longest token it accepts inside the unseal size cap', async () => {
    const longest = await ring.seal('x'.repeat(2048), { clientId: 'c'.repeat(200) });
    expect(longest.length).toBeLessThanOrEqual(MAX_SEALED_LENGTH);
    await expect(
      ring.unseal(longest, { clientId: 'c'.repeat(200), maxAge: 60 }),
    ).resolves.toMatchObject({ refreshToken: 'x'.repeat(2048) });
  });
});

describe('AES-GCM implementations', () => {
  const nodeAead = createNodeAead();

  it('node:crypto opens what WebCrypto sealed, and WebCrypto what node:crypto sealed', async () => {
    const web = await Keyring.parse(`${KEY_A},${KEY_B}`);
    const node = web.withAead(nodeAead);
    const nodeParsed = await Keyring.parse(`${KEY_A},${KEY_B}`, { aead: nodeAead });
    expect([web.aeadName, node.aeadName, nodeParsed.aeadName]).toEqual([
      'webcrypto',
      'node:crypto',
      'node:crypto',
    ]);
    for (const token of [TOKEN, 'tøken-✓', 'x'.repeat(2048)]) {
      for (const [sealer, opener] of [
        [web, node],
        [node, web],
        [nodeParsed, web],
        [web, nodeParsed],
      ] as const) {
        const envelope = await sealer.seal(token, { clientId: CLIENT_ID, issuedAt: NOW_S });
        await expect(opener.unseal(envelope, unsealOptions)).resolves.toEqual({
          refreshToken: token,
          issuedAt: NOW_S,
        });
      }
    }
  });

  it('node:crypto refuses every tampered byte, like WebCrypto', async () => {
    const node = (await Keyring.parse(KEY_A)).withAead(nodeAead);
    const envelope = await node.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S });
    const body = fromBase64url(envelope.split('.')[2]!);
    for (let i = 0; i < body.length; i++) {
      const changed = new Uint8Array(body);
      changed[i]! ^= 0x01;
      await unsealFailure(() => node.unseal(`v1.ka.${base64url(changed)}`, unsealOptions));
    }
    await unsealFailure(() => node.unseal(envelope, { ...unsealOptions, clientId: 'other' }));
  });

  it('decrypts exactly once on every path, success and each failure class alike', async () => {
    const calls: number[] = [];
    const counting: Aead = {
      name: 'counting',
      encrypt: (...args) => webCryptoAead.encrypt(...args),
      decrypt: (key, nonce, data, ciphertext) => {
        calls.push(ciphertext.length);
        return webCryptoAead.decrypt(key, nonce, data, ciphertext);
      },
    };
    const ring = await Keyring.parse(KEY_A, { aead: counting });
    const good = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S });
    const old = await ring.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S - SIX_MONTHS - 1 });
    const [, , body] = good.split('.') as [string, string, string];
    const inputs: Record<string, unknown> = {
      success: good,
      'changed tag': `${good.slice(0, -2)}AA`,
      'unknown key id': `v1.kz.${body}`,
      'another version': `v2.ka.${body}`,
      'not base64url': `v1.ka.${body.slice(0, -1)}=`,
      'too short': `v1.ka.${body.slice(0, 20)}`,
      garbage: 'garbage',
      empty: '',
      oversized: 'A'.repeat(MAX_SEALED_LENGTH + 1),
      'not a string': 42,
      expired: old,
    };
    for (const [name, input] of Object.entries(inputs)) {
      calls.length = 0;
      await ring.unseal(input as string, unsealOptions).catch(() => undefined);
      expect(calls, name).toHaveLength(1);
      // About as much work as the input's own length asks for, within fixed bounds.
      expect(calls[0], name).toBeGreaterThanOrEqual(8 + 1 + 16);
      expect(calls[0], name).toBeLessThanOrEqual((MAX_SEALED_LENGTH * 3) / 4);
    }
    calls.length = 0;
    await ring.unseal(good, { ...unsealOptions, clientId: 'other' }).catch(() => undefined);
    expect(calls).toEqual([fromBase64url(body).length - 12]);
  });

  it('unseal failures carry their own code, UNSEAL_FAILED', async () => {
    const ring = await Keyring.parse(KEY_A);
    const error = await unsealFailure(() => ring.unseal('garbage', unsealOptions));
    expect(error.code).toBe('UNSEAL_FAILED');
    expect(error).toBeInstanceOf(SpotifyError);
  });
});

describe('Keyring rotation', () => {
  it('seals with the first key and unseals with every key', async () => {
    const before = await Keyring.parse(KEY_A);
    const oldToken = await before.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S - DAY });

    const rotated = await Keyring.parse(`${KEY_B}, ${KEY_A}`);
    expect(rotated.activeKeyId).toBe('kb');
    expect(rotated.keyIds).toEqual(['kb', 'ka']);
    await expect(rotated.unseal(oldToken, unsealOptions)).resolves.toEqual({
      refreshToken: TOKEN,
      issuedAt: NOW_S - DAY,
    });

    // Re-sealing keeps the original issuedAt and moves the token to the new key.
    const { issuedAt } = await rotated.unseal(oldToken, unsealOptions);
    const newToken = await rotated.seal(TOKEN, { clientId: CLIENT_ID, issuedAt });
    expect(newToken.startsWith('v1.kb.')).toBe(true);
    await expect(rotated.unseal(newToken, unsealOptions)).resolves.toEqual({
      refreshToken: TOKEN,
      issuedAt: NOW_S - DAY,
    });

    // The old ring cannot read what the new key sealed.
    await unsealFailure(() => before.unseal(newToken, unsealOptions));
  });

  it('refuses tokens of a retired key once it is removed from the ring', async () => {
    const before = await Keyring.parse(`${KEY_A},${KEY_B}`);
    const oldToken = await before.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S });
    const retired = await Keyring.parse(`${KEY_C},${KEY_B}`);
    await unsealFailure(() => retired.unseal(oldToken, unsealOptions));
  });

  it('builds the same keyring from { id, secret } objects', async () => {
    const fromText = await Keyring.parse(KEY_A);
    const fromKeys = await Keyring.fromKeys([{ id: 'ka', secret: bytes(32, 1) }]);
    const envelope = await fromKeys.seal(TOKEN, { clientId: CLIENT_ID, issuedAt: NOW_S });
    await expect(fromText.unseal(envelope, unsealOptions)).resolves.toMatchObject({
      refreshToken: TOKEN,
    });
  });

  it('validates programmatic keys without printing them', async () => {
    const secret = bytes(16, 9);
    const cases = [
      [],
      [{ id: 'bad id', secret: bytes(32, 1) }],
      [{ id: 'ok', secret }],
      [
        { id: 'dup', secret: bytes(32, 1) },
        { id: 'dup', secret: bytes(32, 2) },
      ],
    ];
    for (const keys of cases) {
      const error = await Keyring.fromKeys(keys).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).not.toContain(base64url(secret));
    }
  });
});

describe('keyring runtime', () => {
  it('imports no Node built-ins, so it runs on Workers, Deno and Bun', async () => {
    for (const file of ['keyring.ts', 'unseal-error.ts', 'aead.ts']) {
      const source = await readFile(new URL(file, import.meta.url), 'utf8');
      expect(source).not.toMatch(/from ['"]node:|require\(|from ['"](crypto|buffer)['"]/);
      expect(source).not.toMatch(/\bBuffer\b/);
    }
  });
});

describe('Keyring.parse', () => {
  const secretA = KEY_A.split(':')[1]!;

  async function parseError(text: string): Promise<ConfigurationError> {
    const error = await Keyring.parse(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    const configError = error as ConfigurationError;
    expect(configError.option).toBe('TOKEN_ENCRYPTION_KEYS');
    return configError;
  }

  it('trims whitespace and keeps the order', async () => {
    const ring = await Keyring.parse(`  ${KEY_B} ,\n ${KEY_A}\n`);
    expect(ring.keyIds).toEqual(['kb', 'ka']);
  });

  it.each([
    ['empty', '', /empty/],
    ['blank', '  \n ', /empty/],
    ['trailing comma', `${KEY_A},`, /entry 2 is empty/],
    ['no colon', secretA, /entry 1 is not in the form/],
    ['bad kid charset', `k.a:${secretA}`, /entry 1: the key id/],
    ['kid too long', `${'k'.repeat(33)}:${secretA}`, /entry 1: the key id/],
    ['empty kid', `:${secretA}`, /entry 1: the key id/],
    ['standard base64', `ka:${secretA.slice(0, -1)}+`, /entry 1 \(kid "ka"\): .*not base64url/],
    ['padding', `ka:${secretA}=`, /not base64url/],
    ['short key', `ka:${base64url(bytes(16, 1))}`, /decodes to 16 bytes/],
    ['long key', `ka:${base64url(bytes(33, 1))}`, /decodes to 33 bytes/],
    ['empty secret', 'ka:', /decodes to 0 bytes/],
    ['duplicate kid', `${KEY_A},${KEY_B},ka:${base64url(bytes(32, 4))}`, /entries 1 and 3.*"ka"/],
    ['second entry bad', `${KEY_A},kb:${base64url(bytes(31, 2))}`, /entry 2 \(kid "kb"\)/],
  ])('refuses %s with a message that names the entry', async (_, text, pattern) => {
    const error = await parseError(text);
    expect(error.message).toMatch(pattern);
  });

  it('never puts key material in its messages', async () => {
    const secrets = [secretA, base64url(bytes(16, 7)), base64url(bytes(33, 8))];
    const inputs = [
      secrets[0]!,
      `k.a:${secrets[0]}`,
      `${secrets[0]}:ka`,
      `ka:${secrets[1]}`,
      `ka:${secrets[2]}`,
      `ka:${secrets[0]}=`,
      `${KEY_A},ka:${secrets[0]}`,
      `${KEY_B},,${KEY_A}`,
    ];
    for (const input of inputs) {
      const error = await parseError(input);
      const shown = `${error.message} ${String(error.cause ?? '')} ${JSON.stringify(error)}`;
      for (const secret of secrets) {
        // Not even a recognisable piece of it.
        expect(shown).not.toContain(secret.slice(0, 12));
        expect(shown).not.toContain(secret.slice(-12));
      }
    }
  });

  it('reads what generateKeyString writes', async () => {
    const line = Keyring.generateKeyString();
    expect(line).toMatch(/^k\d{8}[0-9a-f]{6}:[A-Za-z0-9_-]{43}$/);
    const ring = await Keyring.parse(line);
    expect(ring.activeKeyId).toBe(line.split(':')[0]);
    expect(Keyring.generateKeyString()).not.toBe(line);
    const envelope = await ring.seal(TOKEN, { clientId: CLIENT_ID });
    await expect(ring.unseal(envelope, { clientId: CLIENT_ID, maxAge: 60 })).resolves.toMatchObject(
      { refreshToken: TOKEN },
    );
  });

  it('imports the keys as non-extractable AES-GCM keys', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    try {
      const ring = await Keyring.parse(`${KEY_A},${KEY_B}`);
      expect(importKey).toHaveBeenCalledTimes(2);
      for (const result of importKey.mock.results) {
        const key = (await result.value) as CryptoKey;
        expect(key.extractable).toBe(false);
        expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
      }
      expect(JSON.stringify(ring)).not.toContain(secretA);
    } finally {
      importKey.mockRestore();
    }
  });
});
