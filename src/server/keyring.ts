/**
 * Sealed refresh tokens: what a token swap server hands to the app instead of
 * Spotify's refresh token (https://developer.spotify.com/documentation/ios/concepts/token-swap-and-refresh).
 *
 * Envelope (ASCII, only `A-Z a-z 0-9 - _ .`, so form and URL encoding leave it alone):
 *
 *     v1.<kid>.<base64url, no padding, of: nonce (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)>
 *
 * - cipher: AES-256-GCM, a fresh random 96-bit nonce per seal (WebCrypto by default; any
 *   {@link Aead} of the same algorithm, e.g. `node:crypto` injected by the Node adapter);
 * - plaintext: issuedAt (unix seconds, unsigned 64-bit big-endian, 8 bytes) ‖ UTF-8 refresh token;
 * - associated data: UTF-8 of `spotify-session/refresh-token.v1.<kid>.<clientId>`, so the
 *   version, the key id and the client id are authenticated without being encrypted, and a
 *   token sealed for one app is refused for another.
 *
 * Only web-standard globals are used (crypto.subtle, crypto.getRandomValues, TextEncoder):
 * this file runs on Node, Deno, Bun and Workers.
 */

import { ConfigurationError, InvalidArgumentError } from '../core/errors/index.js';
import { base64urlDecode, base64urlEncode } from '../core/internal.js';
import { type Aead, TAG_BYTES, webCryptoAead } from './aead.js';
import { UnsealError } from './unseal-error.js';

export type { Aead } from './aead.js';

export { UnsealError } from './unseal-error.js';

/** Envelope version this code writes (and the only one it reads). */
const VERSION = 'v1';
/** Domain separation: these associated data mean "a spotify-session refresh token". */
const AAD_PREFIX = 'spotify-session/refresh-token';
const NONCE_BYTES = 12;
const ISSUED_AT_BYTES = 8;
const KEY_BYTES = 32;
/** Name of the setting key strings come from, unless the caller names another. */
const KEYS_OPTION = 'TOKEN_ENCRYPTION_KEYS';

/** Key ids: short, URL-safe, and never containing the `.` that separates envelope parts. */
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const ENVELOPE_PATTERN = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

/** Longest refresh token (UTF-8 bytes) {@link Keyring.seal} accepts; Spotify's are ~130. */
export const MAX_REFRESH_TOKEN_BYTES = 2048;
/**
 * Longest sealed string {@link Keyring.unseal} looks at; anything longer is refused
 * before decoding. Every envelope {@link Keyring.seal} writes fits inside it: the longest,
 * a {@link MAX_REFRESH_TOKEN_BYTES} token under a 32-character key id, is
 * `3 + 32 + 1 + ⌈(12 + 8 + 2048 + 16) · 4 / 3⌉ = 2815` characters. The token server accepts
 * a `refresh_token` parameter up to this length, so whatever it seals it can also unseal.
 */
export const MAX_SEALED_LENGTH = 4096;
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
   * first login (Spotify's refresh tokens last six months from it, https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens).
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

/** Options of {@link Keyring.parse} and {@link Keyring.fromKeys}. */
export interface KeyringOptions {
  /**
   * The AES-256-GCM implementation. Every implementation writes and reads the same
   * envelopes; the Node adapter passes a faster `node:crypto` one.
   * @default WebCrypto (`crypto.subtle`)
   */
  aead?: Aead;
}

/** Options of {@link Keyring.parse}. */
export interface KeyringParseOptions extends KeyringOptions {
  /**
   * Name of the setting the text came from, used in error messages and as
   * `ConfigurationError.option` (e.g. `encryptionKeys` for the programmatic option).
   * @default 'TOKEN_ENCRYPTION_KEYS'
   */
  option?: string;
}

interface LoadedKey {
  id: string;
  key: CryptoKey;
}

/** What an unseal decrypts when the envelope is unusable: the same work, thrown away. */
interface Decoy {
  key: CryptoKey;
  nonce: Uint8Array;
  additionalData: Uint8Array;
  /** Zeros, as long as the longest envelope body; sliced to the input's length. */
  body: Uint8Array;
}

/** Decoded body of the longest envelope {@link Keyring.unseal} reads. */
const MAX_BODY_BYTES = Math.floor((MAX_SEALED_LENGTH * 3) / 4);
const MIN_BODY_BYTES = NONCE_BYTES + ISSUED_AT_BYTES + 1 + TAG_BYTES;

/**
 * Reads a `kid:secret,…` key list without importing anything (so it can run synchronously
 * when a server is created): the keys, or what is wrong as the text that follows the
 * setting's name (` entry 2 is empty (…)`). Key material never appears in it.
 */
function parseKeyList(text: string): { keys: KeyringKey[] } | { problem: string } {
  if (typeof text !== 'string' || text.trim() === '') {
    return {
      problem:
        ' is empty: set it to one or more comma-separated "kid:secret" keys, ' +
        'active key first (create one with `spotify-session keys generate`)',
    };
  }
  const entries = text.split(',').map((entry) => entry.trim());
  const keys: KeyringKey[] = [];
  const refuse = (problem: string) => {
    for (const key of keys) key.secret.fill(0);
    return { problem };
  };
  for (const [index, entry] of entries.entries()) {
    const position = ` entry ${index + 1}`;
    if (entry === '') return refuse(`${position} is empty (look for a doubled or trailing comma)`);
    const colon = entry.indexOf(':');
    if (colon < 0) return refuse(`${position} is not in the form "kid:secret"`);
    const id = entry.slice(0, colon).trim();
    const secretText = entry.slice(colon + 1).trim();
    // An invalid "kid" may be a pasted secret, so it is not echoed.
    if (!KEY_ID_PATTERN.test(id)) {
      return refuse(`${position}: the key id must be 1-32 characters of A-Z a-z 0-9 _ -`);
    }
    const named = `${position} (kid "${id}")`;
    let secret: Uint8Array;
    try {
      secret = base64urlDecode(secretText);
    } catch {
      return refuse(
        `${named}: the secret is not base64url without padding ` +
          '(A-Z a-z 0-9 - _; standard base64 needs + → -, / → _ and no =)',
      );
    }
    if (secret.length !== KEY_BYTES) {
      secret.fill(0);
      return refuse(
        `${named}: the secret decodes to ${secret.length} bytes, AES-256 needs ${KEY_BYTES}`,
      );
    }
    const earlier = keys.findIndex((k) => k.id === id);
    if (earlier >= 0) {
      secret.fill(0);
      return refuse(` entries ${earlier + 1} and ${index + 1} share the key id "${id}"`);
    }
    keys.push({ id, secret });
  }
  return { keys };
}

/**
 * What is wrong with a key list, as the text that follows the setting's name, or
 * `undefined` when it reads (the keys are wiped at once): the token server's settings check
 * `TOKEN_ENCRYPTION_KEYS` and `encryptionKeys` with it.
 */
export function keyListProblem(text: string): string | undefined {
  const parsed = parseKeyList(text);
  if ('problem' in parsed) return parsed.problem;
  for (const key of parsed.keys) key.secret.fill(0);
  return undefined;
}

/**
 * Reads a `kid:secret,…` key list without importing anything (so it can run synchronously
 * when a server is created). Throws ConfigurationError naming `option` and the entry.
 */
export function readKeyList(text: string, option: string = KEYS_OPTION): KeyringKey[] {
  const parsed = parseKeyList(text);
  if ('problem' in parsed) throw new ConfigurationError(option, `${option}${parsed.problem}`);
  return parsed.keys;
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
  readonly #aead: Aead;
  readonly #decoy: Decoy;
  /** Associated data per `kid` + client id (a server has one client id: a tiny map). */
  readonly #associated = new Map<string, Uint8Array>();

  private constructor(keys: readonly LoadedKey[], aead: Aead, decoy: Decoy) {
    this.#keys = keys;
    this.#byId = new Map(keys.map((k) => [k.id, k.key]));
    this.#aead = aead;
    this.#decoy = decoy;
  }

  /**
   * Reads a `TOKEN_ENCRYPTION_KEYS` value: comma-separated `kid:secret` entries, where
   * `secret` is base64url (no padding) of 32 random bytes; the active (sealing) key comes
   * first. Whitespace around entries is ignored.
   *
   * @throws ConfigurationError (option `TOKEN_ENCRYPTION_KEYS`, or `options.option`) naming
   *   the bad entry by its position (and key id when that is valid). Key material never
   *   appears in the message.
   */
  static async parse(text: string, options: KeyringParseOptions = {}): Promise<Keyring> {
    const keys = readKeyList(text, options.option ?? KEYS_OPTION);
    try {
      return await Keyring.fromKeys(keys, options);
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
  static async fromKeys(
    keys: readonly KeyringKey[],
    options: KeyringOptions = {},
  ): Promise<Keyring> {
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
    const aead = options.aead ?? webCryptoAead;
    assertAead(aead);
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
    // A random key no envelope was sealed with: decrypting with it always fails.
    const decoyKey = (await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])) as CryptoKey;
    const decoy: Decoy = {
      key: decoyKey,
      nonce: new Uint8Array(NONCE_BYTES),
      additionalData: encoder.encode(`${AAD_PREFIX}.${VERSION}.decoy`),
      body: new Uint8Array(MAX_BODY_BYTES),
    };
    return new Keyring(loaded, aead, decoy);
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
    const line = `k${date}${suffix}:${base64urlEncode(secret)}`;
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

  /** Name of the AES-GCM implementation in use (`webcrypto`, `node:crypto`). */
  get aeadName(): string {
    return this.#aead.name;
  }

  /**
   * The same keys running on another AES-256-GCM implementation (the Node adapter's
   * `node:crypto` one): envelopes are identical, only the speed differs.
   */
  withAead(aead: Aead): Keyring {
    assertAead(aead);
    return new Keyring(this.#keys, aead, this.#decoy);
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
    // One buffer, issuedAt ‖ token, encoded in place: each buffer over 64 bytes is a
    // separate allocation costing microseconds. A UTF-16 unit takes at most 3 UTF-8 bytes.
    const room = Math.min(refreshToken.length * 3, MAX_REFRESH_TOKEN_BYTES + 1);
    const buffer = new Uint8Array(ISSUED_AT_BYTES + room);
    const { read, written } = encoder.encodeInto(refreshToken, buffer.subarray(ISSUED_AT_BYTES));
    if (read < refreshToken.length || written > MAX_REFRESH_TOKEN_BYTES) {
      buffer.fill(0);
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
    const plaintext = buffer.subarray(0, ISSUED_AT_BYTES + written);
    writeIssuedAt(plaintext, issuedAt);
    const nonce = nextNonce();
    let sealed: Uint8Array;
    try {
      sealed = await this.#aead.encrypt(
        active.key,
        nonce,
        this.#associatedData(active.id, options.clientId),
        plaintext,
      );
    } finally {
      buffer.fill(0);
    }
    // base64url(nonce ‖ sealed) without joining them: the 12-byte nonce is a whole number of
    // 3-byte groups, so its text ends on a group boundary.
    return `${VERSION}.${active.id}.${base64urlEncode(nonce)}${base64urlEncode(sealed)}`;
  }

  /**
   * Opens a sealed refresh token.
   *
   * Every input, usable or not, costs one AES-GCM decryption of about its length: an
   * unusable envelope (garbage, unknown key id, too short) is decrypted with a decoy key, so
   * the failure classes cannot be told apart by timing either.
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
    const opened = this.#open(sealed, options.clientId);
    const target = opened ?? this.#decoyFor(sealed);
    const plaintext = await this.#aead.decrypt(
      target.key,
      target.nonce,
      target.additionalData,
      target.ciphertext,
    );
    if (opened === undefined || plaintext === undefined) {
      plaintext?.fill(0);
      throw new UnsealError();
    }
    const issuedAt = readIssuedAt(plaintext);
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
      issuedAt === undefined ||
      issuedAt > nowSeconds + ISSUED_AT_MAX_SKEW ||
      nowSeconds - issuedAt > maxAge ||
      refreshToken === ''
    ) {
      throw new UnsealError();
    }
    return { refreshToken, issuedAt };
  }

  /** The key, nonce, associated data and ciphertext of a well-formed envelope. */
  #open(
    sealed: unknown,
    clientId: unknown,
  ):
    | { key: CryptoKey; nonce: Uint8Array; additionalData: Uint8Array; ciphertext: Uint8Array }
    | undefined {
    if (
      typeof sealed !== 'string' ||
      sealed.length > MAX_SEALED_LENGTH ||
      typeof clientId !== 'string'
    ) {
      return undefined;
    }
    const match = ENVELOPE_PATTERN.exec(sealed);
    if (match === null) return undefined;
    const keyId = match[1] as string;
    const key = this.#byId.get(keyId);
    if (key === undefined) return undefined;
    let body: Uint8Array;
    try {
      body = base64urlDecode(match[2] as string);
    } catch {
      return undefined;
    }
    if (body.length < MIN_BODY_BYTES) return undefined;
    return {
      key,
      nonce: body.subarray(0, NONCE_BYTES),
      additionalData: this.#associatedData(keyId, clientId),
      ciphertext: body.subarray(NONCE_BYTES),
    };
  }

  /** What to decrypt instead of an unusable input: the decoy, about as long as the input. */
  #decoyFor(sealed: unknown) {
    const length = typeof sealed === 'string' ? sealed.length : 0;
    const bytes = Math.min(MAX_BODY_BYTES, Math.max(MIN_BODY_BYTES, Math.floor((length * 3) / 4)));
    const decoy = this.#decoy;
    return {
      key: decoy.key,
      nonce: decoy.nonce,
      additionalData: decoy.additionalData,
      ciphertext: decoy.body.subarray(0, bytes - NONCE_BYTES),
    };
  }

  #associatedData(keyId: string, clientId: string): Uint8Array {
    const cacheKey = `${keyId}\n${clientId}`;
    let data = this.#associated.get(cacheKey);
    if (data === undefined) {
      data = encoder.encode(`${AAD_PREFIX}.${VERSION}.${keyId}.${clientId}`);
      // A server uses one client id; anything beyond a few entries is not worth keeping.
      if (this.#associated.size < 16) this.#associated.set(cacheKey, data);
    }
    return data;
  }
}

/**
 * Random bytes for nonces, drawn from the CSPRNG a few kilobytes at a time: one
 * `getRandomValues` call per 256 seals instead of one per seal (each call costs microseconds).
 * Every byte is handed out once.
 */
const noncePool = new Uint8Array(NONCE_BYTES * 256);
let noncePoolOffset = noncePool.length;

function nextNonce(): Uint8Array {
  if (noncePoolOffset + NONCE_BYTES > noncePool.length) {
    crypto.getRandomValues(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.slice(noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePool.fill(0, noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

function assertAead(aead: Aead): void {
  if (typeof aead?.encrypt !== 'function' || typeof aead.decrypt !== 'function') {
    throw new InvalidArgumentError('aead', 'aead must have encrypt() and decrypt()');
  }
}

/** issuedAt as an unsigned 64-bit big-endian integer (two 32-bit halves, no BigInt). */
function writeIssuedAt(target: Uint8Array, seconds: number): void {
  // Byte by byte: a DataView per call costs more than the eight stores.
  const high = Math.floor(seconds / 2 ** 32);
  const low = seconds >>> 0;
  for (let index = 0; index < 4; index += 1) {
    target[3 - index] = (high >>> (8 * index)) & 0xff;
    target[7 - index] = (low >>> (8 * index)) & 0xff;
  }
}

/** issuedAt from the plaintext; `undefined` when it is not a safe integer. */
function readIssuedAt(plaintext: Uint8Array): number | undefined {
  if (plaintext.length < ISSUED_AT_BYTES) return undefined;
  let high = 0;
  let low = 0;
  for (let index = 0; index < 4; index += 1) {
    high = high * 256 + (plaintext[index] as number);
    low = low * 256 + (plaintext[4 + index] as number);
  }
  // 2^53 - 1 has 21 bits in the high word.
  if (high >= 2 ** 21) return undefined;
  return high * 2 ** 32 + low;
}
