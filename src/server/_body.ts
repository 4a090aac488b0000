/**
 * Reading a token request's parameters: bounded body reading (Content-Length AND the
 * bytes actually received), form or JSON, duplicates, oversized and malformed values.
 * Web-standard globals only.
 */
import { MAX_BODY_BYTES, MAX_FIELD_BYTES } from './options.js';

/** Why the parameters could not be read; becomes an OAuth-shaped error answer. */
export interface ParamsProblem {
  status: 400 | 413;
  error: 'invalid_request';
  description: string;
}

export type ParamsResult =
  | { ok: true; params: Map<string, string> }
  | { ok: false; problem: ParamsProblem };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const tooLarge: ParamsProblem = {
  status: 413,
  error: 'invalid_request',
  description: `Request body is larger than ${MAX_BODY_BYTES} bytes`,
};

function problem(description: string): { ok: false; problem: ParamsProblem } {
  return { ok: false, problem: { status: 400, error: 'invalid_request', description } };
}

/**
 * The body limit of both request paths (the web `Request` here, `node:http`'s request in the
 * Node adapter): the chunks of a body, kept only while they stay within `limit` bytes.
 */
export class LimitedBody {
  readonly #limit: number;
  #chunks: Uint8Array[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Keeps `chunk`; `false`, keeping nothing more, once the body passed the limit. */
  add(chunk: Uint8Array): boolean {
    this.#size += chunk.byteLength;
    if (this.#size > this.#limit) {
      this.#chunks = [];
      return false;
    }
    this.#chunks.push(chunk);
    return true;
  }

  /** The body read so far, in one piece. */
  bytes(): Uint8Array {
    const chunks = this.#chunks;
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    const body = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return body;
  }
}

/**
 * Reads at most `limit` bytes of the body; `undefined` when it is larger. A body with a
 * `Content-Length` within the limit is read whole (HTTP framing stops it at that length, and
 * on Node the adapter reads it without web streams); any other body is read chunk by chunk
 * and dropped (the stream cancelled) as soon as it passes the limit, so a huge or endless
 * body never sits in memory.
 */
export async function readBodyLimited(
  request: Request,
  limit: number,
): Promise<Uint8Array | undefined> {
  const body = new LimitedBody(limit);
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (declaredTooLarge(declared, limit)) return undefined;
    return body.add(new Uint8Array(await request.arrayBuffer())) ? body.bytes() : undefined;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!body.add(value)) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return body.bytes();
}

/**
 * Whether a `Content-Length` announces more than `limit` bytes (or is unreadable): such a
 * body is refused without reading a byte of it.
 */
export function declaredTooLarge(declared: string, limit: number): boolean {
  const length = Number(declared.trim());
  return !Number.isFinite(length) || length > limit;
}

/** `application/x-www-form-urlencoded` or `application/json` (parameters such as charset allowed). */
function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(';', 1)[0]?.trim().toLowerCase();
}

/** Where {@link readParams} reads: the `Content-Type` and a bounded body reader. */
export interface ParamsSource {
  readonly contentType: string | undefined;
  readBody(limit: number): Promise<Uint8Array | undefined>;
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const JSON_WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * The first of `names` that is a key of the top-level object twice, in `text` that
 * JSON.parse has accepted (so strings and nesting are well formed).
 */
function repeatedTopLevelKey(text: string, names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
    else if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      let next = end + 1;
      while (JSON_WHITESPACE.has(text[next] as string)) next++;
      if (depth === 1 && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.includes(key)) {
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = end;
    }
  }
  return undefined;
}

/** A web `Request` as a {@link ParamsSource}. */
export function paramsSourceOf(request: Request): ParamsSource {
  return {
    contentType: request.headers.get('content-type') ?? undefined,
    readBody: (limit) => readBodyLimited(request, limit),
  };
}

/**
 * Reads the request's parameters, from a web `Request` ({@link paramsSourceOf}) or the Node
 * adapter's `node:http` request alike. Only `names` are looked at (others are ignored, as
 * OAuth servers do); each may appear once, up to {@link MAX_FIELD_BYTES} bytes of visible
 * ASCII (or its own limit from `maxLengths`). An empty value counts as absent.
 */
export async function readParams(
  source: ParamsSource,
  names: readonly string[],
  maxLengths: Readonly<Record<string, number>> = {},
): Promise<ParamsResult> {
  const type = mediaType(source.contentType);
  let body: Uint8Array | undefined;
  try {
    body = await source.readBody(MAX_BODY_BYTES);
  } catch {
    return problem('The request body could not be read');
  }
  if (body === undefined) return { ok: false, problem: tooLarge };
  if (type !== 'application/x-www-form-urlencoded' && type !== 'application/json') {
    if (body.byteLength === 0 && type === undefined) return { ok: true, params: new Map() };
    return problem(
      'Unsupported Content-Type: send the parameters as application/x-www-form-urlencoded (or application/json)',
    );
  }
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return problem('The request body is not valid UTF-8');
  }
  const raw = new Map<string, string[]>();
  if (type === 'application/json') {
    if (text.trim() === '') return { ok: true, params: new Map() };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parser's message quotes the body (which may hold a code): never pass it on.
      return problem('The request body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return problem('The JSON request body must be an object');
    }
    // JSON.parse keeps the last of two equal keys; a form would refuse the pair, so must this.
    const repeated = repeatedTopLevelKey(text, names);
    if (repeated !== undefined) return problem(`${repeated} must be sent only once`);
    for (const name of names) {
      if (!Object.hasOwn(parsed, name)) continue;
      const value = (parsed as Record<string, unknown>)[name];
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string') return problem(`${name} must be a string`);
      raw.set(name, [value]);
    }
  } else {
    const form = new URLSearchParams(text);
    for (const name of names) {
      const values = form.getAll(name);
      if (values.length > 0) raw.set(name, values);
    }
  }
  const params = new Map<string, string>();
  for (const [name, values] of raw) {
    if (values.length > 1) return problem(`${name} must be sent only once`);
    const value = values[0] ?? '';
    if (value === '') continue;
    const maxLength = maxLengths[name] ?? MAX_FIELD_BYTES;
    if (value.length > maxLength) {
      return problem(`${name} is too long (at most ${maxLength} bytes)`);
    }
    // Codes, tokens, verifiers, client ids and URIs are all visible ASCII; anything else
    // (spaces, controls, U+FFFD from broken percent-encoding) is malformed.
    if (!VISIBLE_ASCII.test(value)) return problem(`${name} is malformed`);
    params.set(name, value);
  }
  return { ok: true, params };
}
