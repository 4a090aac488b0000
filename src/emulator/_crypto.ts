/** Web Crypto helpers, so the app itself runs on any runtime with `crypto` global. */

const encoder = new TextEncoder();

/** Base64url without padding. */
function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An opaque, unguessable value: `prefix` + base64url of `byteLength` CSPRNG bytes. */
export function randomToken(prefix: string, byteLength: number): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

/** base64url(SHA-256(text)), the PKCE S256 transform. */
export async function sha256Base64url(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

/**
 * Compares two secrets in time independent of where they differ, and of their
 * lengths (both are hashed first).
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  const x = new Uint8Array(left);
  const y = new Uint8Array(right);
  let difference = 0;
  for (let index = 0; index < x.length; index++) difference |= (x[index] ?? 0) ^ (y[index] ?? 0);
  return difference === 0;
}

/** A small seeded PRNG (mulberry32) so fault `rate`s are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
