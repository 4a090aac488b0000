/**
 * Token requests as oauth4webapi builds them, learned once per grant and parameter names,
 * then replayed with new values. oauth4webapi decides every request's shape (endpoint,
 * client authentication, headers, which parameters and in which order); the replay only
 * swaps in the caller's values, in the same `application/x-www-form-urlencoded` encoding.
 * It saves oauth4webapi's per-call work (a `Headers` object, endpoint URL checks, several
 * promise layers), which a token server, sending thousands of requests that differ in one
 * value, pays on every one. Web-standard globals only; only the server uses it, so browser
 * bundles never carry it.
 *
 * A request is learned only when it is provably a template of its parameters: a POST with
 * a form body in which each of the caller's parameters appears once, with the caller's
 * value. Anything else is simply not learned and oauth4webapi keeps building it.
 */
import type { Grant, TokenRequestReplay } from './grants.js';

/** A learned request: its URL, headers and body parts (fixed text, or a parameter's name). */
interface Template {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: readonly (string | { name: string })[];
}

/** Characters the form serializer leaves as they are (WHATWG URL, urlencoded serializer). */
const FORM_SAFE = /^[A-Za-z0-9*._-]*$/;
/** What `encodeURIComponent` leaves alone but the form serializer escapes, and spaces. */
const FORM_EXTRA = /[!'()~]|%20/g;

/** One name or value as `URLSearchParams` serializes it. */
export function formEncode(text: string): string {
  if (FORM_SAFE.test(text)) return text;
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    // Lone surrogates: URLSearchParams writes U+FFFD for them.
    return new URLSearchParams([['', text]]).toString().slice(1);
  }
  return encoded.replace(FORM_EXTRA, (match) =>
    match === '%20' ? '+' : `%${match.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function keyOf(grant: Grant, parameters: URLSearchParams): string {
  let key = grant;
  for (const name of parameters.keys()) key += `&${name}`;
  return key;
}

/** The template of a request oauth4webapi built, or `undefined` when it is not one. */
function templateOf(
  url: string,
  init: RequestInit,
  values: ReadonlyMap<string, string>,
): Template | undefined {
  const { body, headers } = init;
  if (
    init.method !== 'POST' ||
    !(body instanceof URLSearchParams) ||
    typeof headers !== 'object' ||
    headers === null ||
    headers instanceof Headers ||
    Array.isArray(headers) ||
    (init.signal !== undefined && init.signal !== null)
  ) {
    return undefined;
  }
  const parts: (string | { name: string })[] = [];
  const seen = new Set<string>();
  let text = '';
  for (const [name, value] of body) {
    const separator = parts.length === 0 && text === '' ? '' : '&';
    if (values.has(name)) {
      // Each of the caller's parameters once, with the caller's value: a slot.
      if (seen.has(name) || values.get(name) !== value) return undefined;
      seen.add(name);
      parts.push(`${text}${separator}${formEncode(name)}=`, { name });
      text = '';
    } else {
      text += `${separator}${formEncode(name)}=${formEncode(value)}`;
    }
  }
  if (seen.size !== values.size) return undefined;
  if (text !== '') parts.push(text);
  return {
    url,
    headers: Object.freeze({ ...(headers as Record<string, string>) }),
    body: parts,
  };
}

/** A replay for one client configuration (see `withTokenRequestReplay`). */
export function createTokenRequestReplay(): TokenRequestReplay {
  const templates = new Map<string, Template>();
  return {
    request(grant, parameters) {
      const template = templates.get(keyOf(grant, parameters));
      if (template === undefined) return undefined;
      let body = '';
      for (const part of template.body) {
        body += typeof part === 'string' ? part : formEncode(parameters.get(part.name) as string);
      }
      return {
        url: template.url,
        init: { method: 'POST', headers: { ...template.headers }, body, redirect: 'manual' },
      };
    },
    learn(grant, parameters, send) {
      // Read before oauth4webapi adds its own parameters (grant_type, client_id).
      const key = keyOf(grant, parameters);
      const values = new Map(parameters);
      return (url, init) => {
        const template = templateOf(url, init, values);
        // A few grants × parameter sets per client; the bound only guards against misuse.
        if (template !== undefined && templates.size < 16) templates.set(key, template);
        return send(url, init);
      };
    },
  };
}
