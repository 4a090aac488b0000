/**
 * The packages this repository publishes, read from package.json: the root package, or each
 * npm workspace when the root is a workspace root. The runtime matrix links them into a
 * scratch project; the snippet test maps their public entry points to src/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

type ExportTarget = string | { types?: string; import?: string; default?: string } | null;

export interface PublishedPackage {
  name: string;
  /** Absolute directory of the package. */
  dir: string;
  exports: Record<string, ExportTarget>;
}

interface Manifest {
  name?: string;
  private?: boolean;
  exports?: Record<string, ExportTarget>;
  workspaces?: string[];
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Workspace patterns as npm writes them: `dir` or `dir/*`. */
function workspaceDirs(patterns: string[]): string[] {
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [join(REPO_ROOT, pattern)];
    const parent = join(REPO_ROOT, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(parent, entry.name));
  });
}

export function publishedPackages(): PublishedPackage[] {
  const root = readManifest(REPO_ROOT);
  const dirs = [REPO_ROOT, ...workspaceDirs(root.workspaces ?? [])];
  const packages = dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .filter(({ manifest }) => manifest.name !== undefined && manifest.exports !== undefined)
    .map(({ dir, manifest }) => ({
      name: manifest.name as string,
      dir,
      exports: manifest.exports as Record<string, ExportTarget>,
    }));
  // The packages scripts/pack.mjs assembles from dist/ (templates in packages/*): same
  // `./dist/…` layout as the root, so the root stands in for each (its exports are a superset).
  for (const dir of workspaceDirs(['packages/*'])) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = readManifest(dir);
    if (manifest.name === undefined || manifest.exports === undefined) continue;
    if (packages.some((pkg) => pkg.name === manifest.name)) continue;
    packages.push({ name: manifest.name, dir: REPO_ROOT, exports: manifest.exports });
  }
  return packages;
}

/** Every public specifier (`spotify-session`, `spotify-session/server`, …). */
export function publicSpecifiers(): string[] {
  return publishedPackages().flatMap((pkg) =>
    Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`)),
  );
}

/**
 * `spotify-session/x` → the TypeScript source its `exports` entry is built from
 * (`./dist/x/index.d.ts` → `<package>/src/x/index.ts`).
 */
export function sourceEntryPoints(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const pkg of publishedPackages()) {
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (key === './package.json' || target === null) continue;
      const built =
        typeof target === 'string' ? target : (target.types ?? target.import ?? target.default);
      if (built === undefined || !built.startsWith('./dist/')) continue;
      const source = built.replace(/^\.\/dist\//, 'src/').replace(/(\.d)?\.[cm]?[jt]s$/, '.ts');
      entries.set(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`, join(pkg.dir, source));
    }
  }
  return entries;
}
