/**
 * `node --import ./test/support/trace-modules.mjs app.js` appends the URL of every module
 * the app loads (node: built-ins left out) to the file named by `TRACE_MODULES_FILE`, one a
 * line: tests check what a command loads, never how long it takes (bench/ does that).
 */
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (!url.startsWith('node:')) appendFileSync(process.env.TRACE_MODULES_FILE, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
