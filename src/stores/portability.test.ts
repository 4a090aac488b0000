import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** The source files an entry reaches and the packages it imports (esbuild's view). */
async function reach(entry: string) {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    platform: 'neutral',
    format: 'esm',
    packages: 'external',
    external: ['node:*'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const imports = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external).map((i) => i.path),
  );
  return { inputs, imports: [...new Set(imports)].sort() };
}

describe('store entry points', () => {
  it('spotify-session/stores (MemoryStore) needs nothing but web-standard globals and core', async () => {
    const core = await reach('../core/index.ts');
    const { inputs, imports } = await reach('./index.ts');
    expect(imports.filter((i) => !core.imports.includes(i))).toEqual([]);
    expect(imports.some((i) => i.startsWith('node:'))).toBe(false);
    expect(inputs.every((file) => /^src\/(core|stores)\//.test(file))).toBe(true);
  });

  it('the Node stores build on core only: no api, server, CLI or emulator code', async () => {
    const core = await reach('../core/index.ts');
    const own = (imports: string[]) => imports.filter((i) => !core.imports.includes(i));
    const file = await reach('./file.ts');
    expect(own(file.imports).every((i) => i.startsWith('node:'))).toBe(true);
    const redis = await reach('./redis.ts');
    // ioredis is required when a store is created from a url (no top-level await), not imported.
    expect(own(redis.imports)).toEqual(['node:module']);
    for (const input of [...file.inputs, ...redis.inputs]) {
      expect(input).toMatch(/^src\/(core|stores)\//);
    }
  });
});
