/**
 * docs/reference/ (the API reference, TypeDoc Markdown from the public entry points, see
 * typedoc.json) matches the sources: it is regenerated into a temporary directory with the
 * same options and compared file by file.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES, REPO_ROOT } from '../scripts/pack.mjs';

const REFERENCE = join(REPO_ROOT, 'docs/reference');
const TYPEDOC = join(REPO_ROOT, 'node_modules/typedoc/bin/typedoc');
const HOW_TO_FIX =
  'docs/reference/ is out of date: run `npm run docs:reference` and commit the result';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

let fresh: string;

beforeAll(async () => {
  fresh = await mkdtemp(join(tmpdir(), 'spotify-session-reference-'));
  // Same options as `npm run docs:reference` (typedoc.json), another output directory.
  await promisify(execFile)(process.execPath, [TYPEDOC, '--out', fresh, '--logLevel', 'Error'], {
    cwd: REPO_ROOT,
  });
}, 180_000);

afterAll(async () => {
  if (fresh !== undefined) await rm(fresh, { recursive: true, force: true });
});

describe('API reference (docs/reference)', () => {
  it('has a page per entry point of the published packages (typedoc.json lists them all)', () => {
    const specifiers = PACKAGES.flatMap(({ folder }) => {
      const manifest = JSON.parse(
        readFileSync(join(REPO_ROOT, 'packages', folder, 'package.json'), 'utf8'),
      ) as { name: string; exports: Record<string, unknown> };
      return Object.keys(manifest.exports)
        .filter((key) => key !== './package.json')
        .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
    });
    expect(specifiers).toHaveLength(10);
    expect(filesUnder(fresh)).toEqual(
      ['README.md', ...specifiers.map((specifier) => `${specifier}.md`)].sort(),
    );
  });

  it('is up to date with the sources', () => {
    expect(filesUnder(REFERENCE), HOW_TO_FIX).toEqual(filesUnder(fresh));
    // Names, not a diff of the texts: a whole-page diff of a 200 kB file helps nobody.
    const differing = filesUnder(fresh).filter(
      (file) =>
        readFileSync(join(REFERENCE, file), 'utf8') !== readFileSync(join(fresh, file), 'utf8'),
    );
    expect(differing, HOW_TO_FIX).toEqual([]);
  });
});
