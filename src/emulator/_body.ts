/**
 * Reads a request body up to a byte cap, refusing it as soon as the cap is
 * passed (chunked bodies included), so a huge body never sits in memory.
 */

/** `undefined` when the body is larger than `maxBytes` (declared or actually sent). */
async function readBoundedBytes(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > maxBytes) return undefined;
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The body as UTF-8 text (invalid sequences replaced), `undefined` when over `maxBytes` bytes. */
export async function readBoundedText(
  request: Request,
  maxBytes: number,
): Promise<string | undefined> {
  const bytes = await readBoundedBytes(request, maxBytes);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
