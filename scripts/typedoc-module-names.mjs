/**
 * TypeDoc plugin (typedoc.json): names each module of the API reference by the specifier a
 * user imports it with (`spotify-session/stores/file`, `@spotify-session/cli/server`), read
 * from the two published packages' templates, instead of its folder under src/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';
import { PACKAGES, REPO_ROOT } from './pack.mjs';

/** `core` (TypeDoc's name for src/core/index.ts) → `spotify-session`, and so on. */
function specifiersByModuleName() {
  const names = new Map();
  for (const { folder } of PACKAGES) {
    const manifest = JSON.parse(
      readFileSync(join(REPO_ROOT, 'packages', folder, 'package.json'), 'utf8'),
    );
    for (const [key, target] of Object.entries(manifest.exports)) {
      if (typeof target !== 'object' || target === null || target.types === undefined) continue;
      const moduleName = target.types.replace(/^\.\/dist\//, '').replace(/(\/index)?\.d\.ts$/, '');
      names.set(moduleName, key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`);
    }
  }
  return names;
}

export function load(app) {
  const names = specifiersByModuleName();
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getChildrenByKind(ReflectionKind.Module)) {
      const specifier = names.get(module.name);
      if (specifier === undefined) {
        app.logger.warn(`${module.name} is not an entry point of a published package`);
      } else module.name = specifier;
    }
  });
}
