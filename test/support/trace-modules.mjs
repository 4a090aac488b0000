/**
 * `node --import ./test/support/trace-modules.mjs app.js` appends to the file named by
 * `TRACE_MODULES_FILE`, one a line, the URL of every module the app loads (node: built-ins
 * left out) and, at exit, `builtin:<id>` for each of Node's own modules it loaded
 * (`builtin:internal/deps/undici/undici` is the global `fetch`), and `opened:<path>` for each
 * file the app opens or reads through `node:fs/promises` (`open`, `readFile`): tests check
 * what a command loads and reads, never how long it takes (bench/ does that).
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register, syncBuiltinESMExports } from 'node:module';

// The app's `import { open } from 'node:fs/promises'` sees these once the ES module facade is
// synced with the patched CommonJS object.
const promises = createRequire(import.meta.url)('node:fs/promises');
for (const name of ['open', 'readFile']) {
  const original = promises[name];
  promises[name] = function traced(path, ...rest) {
    if (typeof path === 'string' || path instanceof URL) {
      appendFileSync(process.env.TRACE_MODULES_FILE, `opened:${String(path)}\n`);
    }
    return original.call(this, path, ...rest);
  };
}
syncBuiltinESMExports();

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (!url.startsWith('node:')) appendFileSync(process.env.TRACE_MODULES_FILE, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

process.on('exit', () => {
  const builtins = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule '))
    .map((entry) => `builtin:${entry.slice('NativeModule '.length)}\n`);
  appendFileSync(process.env.TRACE_MODULES_FILE, builtins.join(''));
});
