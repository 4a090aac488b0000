// biome-ignore-all lint/correctness/noNodejsModules: a Node-only test reading the Web API description from disk.
// The committed output of scripts/generate-api.mjs (src/api/_generated/, docs/api.md) must be
// what the generator makes from the current Web API description, and must carry none of the
// description's prose.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SPEC = join(ROOT, '../shared/spotify/openapi.yml');
const COMMITTED = join(ROOT, 'src/api/_generated');
const DOCS = join(ROOT, 'docs/api.md');
const hasSpec = existsSync(SPEC);
if (!hasSpec && process.env.CI === 'true') {
  throw new Error(
    `The Web API description is missing at ${SPEC}; CI must check the generated API.`,
  );
}
if (!hasSpec) {
  console.warn(`SKIPPED: ${SPEC} is absent, so the generated API cannot be checked for staleness.`);
}

describe.skipIf(!hasSpec)('generated Web API surface', () => {
  const out = mkdtempSync(join(tmpdir(), 'generate-api-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const run = (spec: string, dir: string) =>
    promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'scripts/generate-api.mjs'),
        '--spec',
        spec,
        '--out',
        join(dir, 'generated'),
        '--docs',
        join(dir, 'api.md'),
      ],
      { cwd: ROOT },
    );

  it('is what `npm run generate:api` makes now (run it and commit the result if not)', async () => {
    await run(SPEC, out);
    const fresh = readdirSync(join(out, 'generated')).sort();
    expect(readdirSync(COMMITTED).sort()).toStrictEqual(fresh);
    const stale = fresh
      .filter(
        (name) =>
          readFileSync(join(COMMITTED, name), 'utf8') !==
          readFileSync(join(out, 'generated', name), 'utf8'),
      )
      .map((name) => `src/api/_generated/${name}`);
    if (readFileSync(DOCS, 'utf8') !== readFileSync(join(out, 'api.md'), 'utf8')) {
      stale.push('docs/api.md');
    }
    expect(stale, 'stale generated files: run `npm run generate:api`').toStrictEqual([]);
  });

  it('refuses an operation that has no method name yet, naming it', async () => {
    const spec = parse(readFileSync(SPEC, 'utf8'));
    spec.paths['/me/new-thing'] = {
      get: { operationId: 'get-new-thing', responses: { '204': { description: 'none' } } },
    };
    const modified = join(out, 'modified.yml');
    writeFileSync(modified, stringify(spec));
    await expect(run(modified, join(out, 'modified'))).rejects.toThrow(
      /scripts\/api-names\.json has no name for get-new-thing/,
    );
  });

  it('marks exactly the withdrawn operations @deprecated, naming an existing replacement', () => {
    const spec = parse(readFileSync(SPEC, 'utf8'));
    const config = JSON.parse(readFileSync(join(ROOT, 'scripts/api-names.json'), 'utf8'));
    const expected: Record<string, boolean> = {};
    for (const item of Object.values<Record<string, { operationId: string; deprecated?: boolean }>>(
      spec.paths,
    )) {
      for (const op of Object.values(item)) {
        expected[config.names[op.operationId]] = op.deprecated === true;
      }
    }
    // Read the doc comments the way an editor does: through the TypeScript parser.
    const file = ts.createSourceFile(
      'resources.ts',
      readFileSync(join(COMMITTED, 'resources.ts'), 'utf8'),
      ts.ScriptTarget.Latest,
      true,
    );
    const found: Record<string, boolean> = {};
    const replacements: string[] = [];
    const visit = (node: ts.Node, prefix: string): void => {
      if (ts.isMethodSignature(node)) {
        const name = prefix + node.name.getText(file);
        const tag = ts.getJSDocTags(node).find((t) => t.tagName.text === 'deprecated');
        found[name] = tag !== undefined;
        const target = /use `([\w.]+)`/.exec(ts.getTextOfJSDocComment(tag?.comment) ?? '')?.[1];
        if (target) replacements.push(target);
        return;
      }
      if (ts.isPropertySignature(node) && node.type && ts.isTypeLiteralNode(node.type)) {
        const group = `${prefix}${node.name.getText(file)}.`;
        for (const member of node.type.members) visit(member, group);
        return;
      }
      if (ts.isInterfaceDeclaration(node) && node.name.text === 'Resources') {
        for (const member of node.members) visit(member, '');
        return;
      }
      ts.forEachChild(node, (child) => visit(child, prefix));
    };
    visit(file, '');
    expect(found).toStrictEqual(expected);
    expect(Object.values(found).filter(Boolean)).toHaveLength(48);
    expect(replacements.length).toBeGreaterThan(20);
    for (const target of replacements) expect(found[target], target).toBe(false);
  });

  it("copies none of the description's prose", () => {
    const prose = new Set<string>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (['description', 'summary', 'example'].includes(key) && typeof value === 'string') {
            for (const sentence of value.split(/(?<=[.!?])\s+|\n+/)) {
              const clean = sentence.trim();
              if (clean.length >= 24) prose.add(clean);
            }
          } else collect(value);
        }
      }
    };
    collect(parse(readFileSync(SPEC, 'utf8')));
    expect(prose.size).toBeGreaterThan(200);
    const output = [
      ...readdirSync(COMMITTED).map((name) => readFileSync(join(COMMITTED, name), 'utf8')),
      readFileSync(DOCS, 'utf8'),
    ].join('\n');
    expect([...prose].filter((sentence) => output.includes(sentence))).toStrictEqual([]);
  });
});
