/**
 * Sealed refresh tokens: what a token swap server hands to the app instead of
 * Spotify's refresh token (accounts.md §5).
 *
 * Envelope (ASCII, only `A-Z a-z 0-9 - _ .`, so form and URL encoding leave it alone):
 *
 *     v1.<kid>.<base64url, no padding, of: nonce (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)>
 *
 * - cipher: AES-256-GCM through WebCrypto, a fresh random 96-bit nonce per seal;
 * - plaintext: issuedAt (unix seconds, unsigned 64-bit big-endian, 8 bytes) ‖ UTF-8 refresh token;
 * - associated data: UTF-8 of `spotify-session/refresh-token.v1.<kid>.<clientId>`, so the
 *   version, the key id and the client id are authenticated without being encrypted, and a
 *   token sealed for one app is refused for another.
 *
 * Only web-standard globals are used (crypto.subtle, crypto.getRandomValues, TextEncoder):
 * this file runs on Node, Deno, Bun and Workers.
 */
import { ConfigurationError, InvalidArgumentError } from '../core/errors/index.js';
import { UnsealError } from './unseal-error.js';

export { UnsealError } from './unseal-error.js';

/** Envelope version this code writes (and the only one it reads). */
const VERSION = 'v1';
/** Domain separation: these associated data mean "a spotify-session refresh token". */
const AAD_PREFIX = 'spotify-session/refresh-token';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ISSUED_AT_BYTES = 8;
const KEY_BYTES = 32;
/** Name of the setting key strings come from; ConfigurationError names it. */
const KEYS_OPTION = 'TOKEN_ENCRYPTION_KEYS';

/** Key ids: short, URL-safe, and never containing the `.` that separates envelope parts. */
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const ENVELOPE_PATTERN = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;
/** Version, key id and the nonce's 16 base64url characters (12 bytes) at the start of the body. */
const ENVELOPE_ID_PATTERN = /^v1\.([A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{16})/;

/**
 * Longest sealed string {@link Keyring.unseal} looks at; anything longer is refused
 * before decoding. Every envelope {@link Keyring.seal} writes fits well inside it.
 */
export const MAX_SEALED_LENGTH = 4096;
/** Longest refresh token (UTF-8 bytes) {@link Keyring.seal} accepts; Spotify's are ~130. */
export const MAX_REFRESH_TOKEN_BYTES = 2048;
/** How far in the future (seconds) an `issuedAt` may be before unseal refuses it (clock skew). */
export const ISSUED_AT_MAX_SKEW = 60;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One key given programmatically to {@link Keyring.fromKeys}. */
export interface KeyringKey {
  /** Key id written into every envelope this key seals: 1–32 of `A-Z a-z 0-9 _ -`. */
  id: string;
  /** 32 random bytes. They are copied into a non-extractable CryptoKey; the array is not kept. */
  secret: Uint8Array;
}

/** Options of {@link Keyring.seal}. */
export interface SealOptions {
  /** Client id of the Spotify app; the sealed token only unseals for the same client id. */
  clientId: string;
  /**
   * Time of the user's ORIGINAL authorization, unix seconds. When re-sealing a rotated
   * refresh token, pass the `issuedAt` unseal returned, so `maxAge` keeps counting from the
   * first login (Spotify's refresh tokens last six months from it, accounts.md §3).
   * @default the current time
   */
  issuedAt?: number;
}

/** Options of {@link Keyring.unseal}. */
export interface UnsealOptions {
  /** Client id the token must have been sealed for. */
  clientId: string;
  /** Oldest accepted token, in seconds counted from its `issuedAt`. */
  maxAge: number;
  /**
   * Clock, in milliseconds since the epoch (tests move it).
   * @default Date.now
   */
  now?: () => number;
}

/** What {@link Keyring.unseal} found inside a sealed token. */
export interface UnsealedToken {
  /** Spotify's refresh token. */
  refreshToken: string;
  /** Time of the original authorization, unix seconds. */
  issuedAt: number;
}

interface LoadedKey {
  id: string;
  key: CryptoKey;
}

/**
 * The keys a token swap server seals refresh tokens with.
 *
 * The first key seals; every key unseals. To rotate, put a new key first and keep the
 * old ones after it until every token they sealed has expired: nobody is logged out.
 *
 * ```ts
 * const keyring = await Keyring.parse(process.env.TOKEN_ENCRYPTION_KEYS ?? '');
 * const sealed = await keyring.seal(refreshToken, { clientId });
 * const opened = await keyring.unseal(sealed, { clientId, maxAge: 15_552_000 });
 * // opened.refreshToken is Spotify's token; opened.issuedAt the original login time
 * ```
 */
export class Keyring {
  readonly #keys: readonly LoadedKey[];
  readonly #byId: ReadonlyMap<string, CryptoKey>;

  private constructor(keys: readonly LoadedKey[]) {
    this.#keys = keys;
    this.#byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /**
   * Reads a `TOKEN_ENCRYPTION_KEYS` value: comma-separated `kid:secret` entries, where
   * `secret` is base64url (no padding) of 32 random bytes; the active (sealing) key comes
   * first. Whitespace around entries is ignored.
   *
   * @throws ConfigurationError (option `TOKEN_ENCRYPTION_KEYS`) naming the bad entry by its
   *   position (and key id when that is valid). Key material never appears in the message.
   */
  static async parse(text: string): Promise<Keyring> {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new ConfigurationError(
        KEYS_OPTION,
        `${KEYS_OPTION} is empty: set it to one or more comma-separated "kid:secret" keys, ` +
          'active key first (create one with `spotify-session keys generate`)',
      );
    }
    const entries = text.split(',').map((entry) => entry.trim());
    const keys: KeyringKey[] = [];
    for (const [index, entry] of entries.entries()) {
      const position = `${KEYS_OPTION} entry ${index + 1}`;
      if (entry === '') {
        throw new ConfigurationError(
          KEYS_OPTION,
          `${position} is empty (look for a doubled or trailing comma)`,
        );
      }
      const colon = entry.indexOf(':');
      if (colon < 0) {
        throw new ConfigurationError(KEYS_OPTION, `${position} is not in the form "kid:secret"`);
      }
      const id = entry.slice(0, colon).trim();
      const secretText = entry.slice(colon + 1).trim();
      // An invalid "kid" may be a pasted secret, so it is not echoed.
      if (!KEY_ID_PATTERN.test(id)) {
        throw new ConfigurationError(
          KEYS_OPTION,
          `${position}: the key id must be 1-32 characters of A-Z a-z 0-9 _ -`,
        );
      }
      const named = `${position} (kid "${id}")`;
      const secret = decodeBase64Url(secretText);
      if (secret === undefined) {
        throw new ConfigurationError(
          KEYS_OPTION,
          `${named}: the secret is not base64url without padding ` +
            '(A-Z a-z 0-9 - _; standard base64 needs + → -, / → _ and no =)',
        );
      }
      if (secret.length !== KEY_BYTES) {
        throw new ConfigurationError(
          KEYS_OPTION,
          `${named}: the secret decodes to ${secret.length} bytes, AES-256 needs ${KEY_BYTES}`,
        );
      }
      const earlier = keys.findIndex((k) => k.id === id);
      if (earlier >= 0) {
        throw new ConfigurationError(
          KEYS_OPTION,
          `${KEYS_OPTION} entries ${earlier + 1} and ${index + 1} share the key id "${id}"`,
        );
      }
      keys.push({ id, secret });
    }
    try {
      return await Keyring.fromKeys(keys);
    } finally {
      for (const key of keys) key.secret.fill(0);
    }
  }

  /**
   * Builds a keyring from keys held in memory; the first one seals.
   *
   * @throws InvalidArgumentError (argument `keys`) for an empty list, a bad or duplicate id
   *   or a secret that is not 32 bytes. Key material never appears in the message.
   */
  static async fromKeys(keys: readonly KeyringKey[]): Promise<Keyring> {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new InvalidArgumentError('keys', 'a keyring needs at least one key');
    }
    const seen = new Set<string>();
    for (const [index, key] of keys.entries()) {
      if (typeof key?.id !== 'string' || !KEY_ID_PATTERN.test(key.id)) {
        throw new InvalidArgumentError(
          'keys',
          `key ${index + 1}: the id must be 1-32 characters of A-Z a-z 0-9 _ -`,
        );
      }
      if (!(key.secret instanceof Uint8Array) || key.secret.length !== KEY_BYTES) {
        throw new InvalidArgumentError(
          'keys',
          `key ${index + 1} (kid "${key.id}"): the secret must be a Uint8Array of ${KEY_BYTES} bytes`,
        );
      }
      if (seen.has(key.id)) {
        throw new InvalidArgumentError('keys', `two keys share the id "${key.id}"`);
      }
      seen.add(key.id);
    }
    const loaded = await Promise.all(
      keys.map(async ({ id, secret }) => {
        const raw = new Uint8Array(secret);
        try {
          const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [
            'encrypt',
            'decrypt',
          ]);
          return { id, key };
        } finally {
          raw.fill(0);
        }
      }),
    );
    return new Keyring(loaded);
  }

  /**
   * A new key in the form {@link Keyring.parse} reads: `kid:secret`, with a kid made of
   * today's date and random hex (e.g. `k20261122a1b2c3`) and 32 bytes from the CSPRNG.
   */
  static generateKeyString(): string {
    const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const suffix = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('');
    const secret = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    const line = `k${date}${suffix}:${encodeBase64Url(secret)}`;
    secret.fill(0);
    return line;
  }

  /** Id of the key that seals. */
  get activeKeyId(): string {
    // The constructor is private and fromKeys refuses an empty list.
    return this.#keys[0]!.id;
  }

  /** Ids of every key, the active one first (safe to log: ids are not secret). */
  get keyIds(): string[] {
    return this.#keys.map((k) => k.id);
  }

  /**
   * Encrypts a refresh token for one client with the active key.
   *
   * @throws InvalidArgumentError for an empty or over-long token, an empty client id or an
   *   `issuedAt` that is not a non-negative integer.
   */
  async seal(refreshToken: string, options: SealOptions): Promise<string> {
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new InvalidArgumentError(
        'refreshToken',
        'the refresh token must be a non-empty string',
      );
    }
    const tokenBytes = encoder.encode(refreshToken);
    if (tokenBytes.length > MAX_REFRESH_TOKEN_BYTES) {
      throw new InvalidArgumentError(
        'refreshToken',
        `the refresh token is longer than ${MAX_REFRESH_TOKEN_BYTES} bytes`,
      );
    }
    if (typeof options?.clientId !== 'string' || options.clientId === '') {
      throw new InvalidArgumentError('clientId', 'clientId must be a non-empty string');
    }
    const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
    if (!Number.isSafeInteger(issuedAt) || issuedAt < 0) {
      throw new InvalidArgumentError(
        'issuedAt',
        'issuedAt must be a non-negative integer (unix s)',
      );
    }
    const active = this.#keys[0]!;
    const plaintext = new Uint8Array(ISSUED_AT_BYTES + tokenBytes.length);
    new DataView(plaintext.buffer).setBigUint64(0, BigInt(issuedAt));
    plaintext.set(tokenBytes, ISSUED_AT_BYTES);
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: 'AES-GCM',
          iv: nonce,
          additionalData: associatedData(active.id, options.clientId),
          tagLength: TAG_BYTES * 8,
        },
        active.key,
        plaintext,
      ),
    );
    plaintext.fill(0);
    const body = new Uint8Array(NONCE_BYTES + sealed.length);
    body.set(nonce, 0);
    body.set(sealed, NONCE_BYTES);
    return `${VERSION}.${active.id}.${encodeBase64Url(body)}`;
  }

  /**
   * Opens a sealed refresh token.
   *
   * @throws UnsealError for every failure alike (see {@link UnsealError}).
   * @throws InvalidArgumentError when `maxAge` is not a positive number (a programming
   *   error, not a bad token).
   */
  async unseal(sealed: string, options: UnsealOptions): Promise<UnsealedToken> {
    const maxAge = options?.maxAge;
    if (typeof maxAge !== 'number' || !(maxAge > 0)) {
      throw new InvalidArgumentError('maxAge', 'maxAge must be a positive number of seconds');
    }
    if (typeof sealed !== 'string' || sealed.length === 0 || sealed.length > MAX_SEALED_LENGTH) {
      throw new UnsealError();
    }
    const match = ENVELOPE_PATTERN.exec(sealed);
    const keyId = match?.[1];
    const key = keyId === undefined ? undefined : this.#byId.get(keyId);
    const body = match?.[2] === undefined ? undefined : decodeBase64Url(match[2]);
    if (
      keyId === undefined ||
      key === undefined ||
      body === undefined ||
      body.length < NONCE_BYTES + ISSUED_AT_BYTES + 1 + TAG_BYTES ||
      typeof options.clientId !== 'string'
    ) {
      throw new UnsealError();
    }
    let plaintext: Uint8Array;
    try {
      plaintext = new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: body.subarray(0, NONCE_BYTES),
            additionalData: associatedData(keyId, options.clientId),
            tagLength: TAG_BYTES * 8,
          },
          key,
          body.subarray(NONCE_BYTES),
        ),
      );
    } catch {
      throw new UnsealError();
    }
    const issuedAtBig = new DataView(plaintext.buffer, plaintext.byteOffset).getBigUint64(0);
    const issuedAt = Number(issuedAtBig);
    const nowSeconds = (options.now ?? Date.now)() / 1000;
    let refreshToken: string;
    try {
      refreshToken = strictDecoder.decode(plaintext.subarray(ISSUED_AT_BYTES));
    } catch {
      throw new UnsealError();
    } finally {
      plaintext.fill(0);
    }
    if (
      issuedAtBig > BigInt(Number.MAX_SAFE_INTEGER) ||
      issuedAt > nowSeconds + ISSUED_AT_MAX_SKEW ||
      nowSeconds - issuedAt > maxAge ||
      refreshToken === ''
    ) {
      throw new UnsealError();
    }
    return { refreshToken, issuedAt };
  }
}

/**
 * A short identifier of a sealed token, read from the envelope without decrypting it:
 * `<kid>.<nonce>` (the nonce's base64url text, random for every seal). `undefined` when the
 * string is not shaped like an envelope. Neither part is secret, and two seals never share a
 * nonce, so it names one sealed token (the token server's per-token rate-limit key). A
 * forgery that keeps the nonce and changes the rest shares the real token's identifier, but
 * making one needs the real token.
 */
export function sealedTokenId(sealed: string): string | undefined {
  return ENVELOPE_ID_PATTERN.exec(sealed)?.[1];
}

function associatedData(keyId: string, clientId: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${AAD_PREFIX}.${VERSION}.${keyId}.${clientId}`);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE_TABLE = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** base64url without padding (RFC 4648 §5). */
function encodeBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
    out += ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict base64url without padding: `undefined` for any character outside the alphabet,
 * an impossible length, or unused trailing bits that are not zero — so each byte string
 * has exactly one text form and a changed character never decodes to the same bytes.
 */
function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? DECODE_TABLE[code]! : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
