/**
 * Test helper: child processes run plain JavaScript, so a TypeScript entry is
 * bundled with esbuild (dependencies stay imports, resolved from this
 * project's node_modules).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CACHE = fileURLToPath(
  new URL('../../../node_modules/.cache/spotify-session-tests/', import.meta.url),
);

/** Bundles `entry` (a path) to an ES module and returns the file to run with `node` (delete it afterwards). */
export async function bundleForNode(entry: string, name: string): Promise<string> {
  const outfile = `${CACHE}${name}-${process.pid}-${randomUUID()}.mjs`;
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}
