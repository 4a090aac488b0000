/**
 * What a Node client made for one job (the token server's undici client, the CLI's
 * `node:http` one) takes of a `fetch` call's `RequestInit`: headers and a body it can send
 * as they are. Nothing else of `fetch` is loaded.
 */

/** `init.headers` in any of its forms, as one lower-cased record. */
export function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined || headers === null) return record;
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) record[String(name).toLowerCase()] = String(value);
    return record;
  }
  // A plain record is told apart first: on Node 20 the first mention of the global `Headers`
  // loads undici's fetch, which the CLI's client exists to avoid.
  const prototype: unknown = Object.getPrototypeOf(headers);
  if (prototype !== Object.prototype && prototype !== null && headers instanceof Headers) {
    headers.forEach((value, name) => {
      record[name] = value;
    });
    return record;
  }
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, string | undefined>)[name];
    if (value !== undefined) record[name.toLowerCase()] = value;
  }
  return record;
}

/** `init.body` as a string or bytes; a stream, `Blob` or `FormData` is refused (TypeError). */
export function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('this client sends string, URLSearchParams or byte bodies only');
}
