/**
 * `node --import ./test/support/trace-modules.mjs app.js` appends to the file named by
 * `TRACE_MODULES_FILE`, one a line, the URL of every module the app loads (node: built-ins
 * left out) and, at exit, `builtin:<id>` for each of Node's own modules it loaded
 * (`builtin:internal/deps/undici/undici` is the global `fetch`): tests check what a command
 * loads, never how long it takes (bench/ does that).
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

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
