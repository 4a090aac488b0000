// Browser bundle sizes of the programs in bench/_bundles.mjs (PKCE login, + api.me(), the
// browser login on a BrowserStore, client credentials, and Spotify's official SDK doing the
// same), as an app's bundler would build them: esbuild, bundled, minified, ESM, platform
// browser, gzip -9 per file. Reads src/ (no build needed).
//
//   node bench/bundle-size.mjs [--json] [--modules]
//
// Columns: "loaded" is what the program loads (with code splitting: the chunks at start, plus
// the lazy store part when it gives the Session a store); "at start" and "store part" are
// those chunks; "one file" is the build without code splitting (everything, inlined).
// `--modules` lists each module's minified bytes. `npm test` checks them (test/bundle.test.ts)
// and `npm run size` (size-limit) enforces budgets per import; see docs/benchmarks.md.
import { measure, PROGRAMS } from './_bundles.mjs';

const json = process.argv.includes('--json');
const modules = process.argv.includes('--modules');

const results = [];
for (const [name, program] of Object.entries(PROGRAMS)) {
  results.push({ name, ...(await measure(program)) });
}

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const pad = (value, width) => String(value).padStart(width);
  console.log(
    `${'program'.padEnd(62)} ${pad('loaded', 7)} ${pad('at start', 9)} ${pad('store part', 10)} ${pad('one file', 9)}  (bytes, gzip)`,
  );
  for (const { name, loaded, start, lazy, oneFile } of results) {
    console.log(
      `${name.padEnd(62)} ${pad(loaded, 7)} ${pad(start.gzip, 9)} ${pad(lazy.gzip || '—', 10)} ${pad(oneFile.gzip, 9)}`,
    );
    if (!modules) continue;
    for (const file of [...start.files, ...lazy.files]) {
      console.log(`  ${file.name}: ${file.minified} B minified, ${file.gzip} B gzip`);
      for (const { path, bytes } of file.modules) console.log(`    ${pad(bytes, 6)}  ${path}`);
    }
  }
}
