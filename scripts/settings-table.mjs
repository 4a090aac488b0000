#!/usr/bin/env node
/**
 * The token server's configuration table in README.md and docs/server.md, generated from the
 * settings table (src/server/settings.ts, through the build): every variable with its flag,
 * default, values and meaning, between the two marker lines below. A test
 * (src/server/settings.test.ts) fails when a committed table differs from the generated one.
 *
 *   npm run docs:settings    # = npm run build && node scripts/settings-table.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Files holding the table. */
export const SETTINGS_TABLE_FILES = ['README.md', 'docs/server.md'];
export const TABLE_START =
  '<!-- settings table: generated from src/server/settings.ts by `npm run docs:settings` -->';
export const TABLE_END = '<!-- end of settings table -->';

/** A cell: no line breaks, `|` escaped. */
function cell(text) {
  return text.replaceAll('\n', ' ').replaceAll('|', '\\|');
}

/** The markdown table of `settings` (settings.ts's SETTINGS), one row per variable. */
export function settingsTable(settings) {
  const rows = settings.map((setting) => {
    const flag =
      setting.flag === undefined
        ? '—'
        : `\`${setting.flag}\`${setting.repeatable ? ' (repeatable)' : ''}`;
    const fallback =
      setting.default !== undefined ? `\`${setting.default}\`` : (setting.unset ?? '—');
    const meaning =
      setting.details === undefined
        ? setting.description
        : `${setting.description}; ${setting.details}`;
    return `| \`${setting.env}\` | ${cell(flag)} | ${cell(fallback)} | ${cell(setting.values ?? '')} | ${cell(meaning)} |`;
  });
  return [
    '| variable | flag | default | values | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** `markdown` with the text between the markers replaced by `table`. */
export function withSettingsTable(markdown, table, file = 'the file') {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`${file} has no settings table markers (${TABLE_START} … ${TABLE_END})`);
  }
  return `${markdown.slice(0, start + TABLE_START.length)}\n${table}\n${markdown.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { SETTINGS } = await import('../dist/server/settings.js');
  const table = settingsTable(SETTINGS);
  for (const file of SETTINGS_TABLE_FILES) {
    const path = join(REPO_ROOT, file);
    const before = readFileSync(path, 'utf8');
    const after = withSettingsTable(before, table, file);
    if (after !== before) writeFileSync(path, after);
    console.log(`${file}: ${after === before ? 'up to date' : 'table written'}`);
  }
}
