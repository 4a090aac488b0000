import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const NODE_ONLY = [
  /^node:/,
  /^ioredis$/,
  /^prom-client$/,
  /^@hono\/node-server/,
  /^rate-limiter-flexible$/,
];

/** Every module the file reaches through relative imports, with the bare imports they make. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (graph.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    const bare: string[] = [];
    for (const match of source.matchAll(
      /^\s*(import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm,
    )) {
      const specifier = match[2] as string;
      if (specifier.startsWith('.'))
        queue.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else bare.push(specifier);
    }
    graph.set(file, bare);
  }
  return graph;
}

describe('the handler path runs on Workers, Deno and Bun', () => {
  it('createTokenServer imports nothing Node-only (node:, ioredis, prom-client, the Node adapter)', () => {
    const graph = importGraph(join(here, 'token-server.ts'));
    expect(graph.size).toBeGreaterThan(5);
    const offenders = [...graph].flatMap(([file, specifiers]) =>
      specifiers.filter((s) => NODE_ONLY.some((p) => p.test(s))).map((s) => `${file}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});

describe('the spotify-session/server entry runs on Workers, Deno and Bun', () => {
  it('index.ts reaches nothing Node-only (those pieces live in spotify-session/server/node)', () => {
    const graph = importGraph(join(here, 'index.ts'));
    const offenders = [...graph].flatMap(([file, specifiers]) =>
      specifiers.filter((s) => NODE_ONLY.some((p) => p.test(s))).map((s) => `${file}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});
