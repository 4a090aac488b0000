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
import { generate, readConfig } from '../../scripts/generate-api.mjs';

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

  it('declares the properties Spotify always sends required (scripts/api-always-sent.json)', () => {
    const { alwaysSent } = readConfig();
    const file = join(COMMITTED, 'types.ts');
    const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file) as ts.SourceFile;
    const optional: string[] = [];
    const listed = Object.entries(alwaysSent);
    expect(listed.length).toBeGreaterThan(20);
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(source) as ts.Symbol);
    for (const [schema, fields] of listed) {
      const declared = exported.find((symbol) => symbol.name === schema);
      expect(declared, schema).toBeDefined();
      const type = checker.getDeclaredTypeOfSymbol(declared as ts.Symbol);
      for (const field of fields) {
        // Inherited properties count too: `getPropertyOfType` walks the `extends` chain.
        const property = checker.getPropertyOfType(type, field);
        if (!property || property.flags & ts.SymbolFlags.Optional)
          optional.push(`${schema}.${field}`);
      }
    }
    expect(optional).toStrictEqual([]);
    // The description's own required properties stay required; the rest stay optional.
    const typesText = readFileSync(file, 'utf8');
    expect(typesText).toMatch(/export interface SimplifiedArtistObject \{[^}]*\n {2}id: string;/);
    expect(typesText).toMatch(/export interface ArtistObject \{[^}]*\n {2}popularity\?: number;/);
  });

  it('refuses an always-sent property that would lie: deprecated, unknown, required already', () => {
    const specText = readFileSync(SPEC, 'utf8');
    const config = readConfig();
    const attempt = (alwaysSent: Record<string, string[]>) => () =>
      generate(specText, { ...config, alwaysSent: { ...config.alwaysSent, ...alwaysSent } });
    expect(attempt({})).not.toThrow();
    // Spotify dropped these for Development Mode apps; the reference marks them deprecated.
    expect(attempt({ ArtistObject: ['id', 'popularity'] })).toThrow(
      'always-sent: ArtistObject.popularity is deprecated; Spotify may omit it',
    );
    expect(attempt({ PrivateUserObject: ['email'] })).toThrow(
      /PrivateUserObject\.email is deprecated/,
    );
    expect(attempt({ TrackObject: ['id', 'colour'] })).toThrow(
      'always-sent: TrackObject has no property colour',
    );
    expect(attempt({ AlbumObject: ['id'] })).toThrow(
      'always-sent: AlbumObject.id is required already',
    );
    expect(attempt({ ErrorObject: ['status'] })).toThrow(
      'always-sent: ErrorObject is not a schema the API returns',
    );
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
