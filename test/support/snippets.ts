/**
 * The TypeScript snippets of README.md and docs/: extraction, one type-check for all of them,
 * and the module a runnable one becomes.
 *
 * A snippet is a fenced block whose info string starts with `ts` or `typescript`. Words after
 * the language are flags: `run` makes the test suite execute it against the emulator (see
 * test/docs-snippets.test.ts). There is no flag to skip the type-check: every snippet compiles.
 * Snippets import the package by its public names (`spotify-session`, `spotify-session/api`,
 * …); those resolve to src/ through `paths` built from package.json `exports`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT, sourceEntryPoints } from '../runtimes/packages.js';

export { REPO_ROOT };

/**
 * Inside the repository so that other bare imports (`hono`, `@types/node`) resolve; one per
 * process, so two runs at once do not overwrite each other's files.
 */
export const SNIPPET_DIR = join(REPO_ROOT, `test-results/snippets-${process.pid}`);

export function removeSnippetFiles(): Promise<void> {
  return rm(SNIPPET_DIR, { recursive: true, force: true });
}

export interface Snippet {
  /** `docs/session.md:42` — the fence's line, 1-based. */
  id: string;
  /** Markdown file, relative to the repository. */
  file: string;
  /** 1-based line of the first line of code in the Markdown file. */
  line: number;
  code: string;
  run: boolean;
}

/** README.md and every Markdown file under docs/ except generated reference pages. */
export function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (path !== 'docs/reference') walk(path);
      } else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files.sort();
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/;

/** Every ```ts / ```typescript block of a Markdown text. */
export function extractSnippets(file: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index] ?? '');
    if (open === null) continue;
    const [, indent = '', fence = '', language = '', meta = ''] = open;
    // Find the closing fence (same character, at least as long) whatever the language.
    let end = index + 1;
    while (end < lines.length) {
      const close = FENCE.exec(lines[end] ?? '');
      if (
        close?.[2]?.[0] === fence[0] &&
        (close?.[2]?.length ?? 0) >= fence.length &&
        close?.[3] === ''
      )
        break;
      end++;
    }
    if (language === 'ts' || language === 'typescript') {
      const code = lines
        .slice(index + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
        .join('\n');
      const flags = meta.split(/\s+/).filter(Boolean);
      snippets.push({
        id: `${file}:${index + 1}`,
        file,
        line: index + 2,
        code,
        run: flags.includes('run'),
      });
    }
    index = end;
  }
  return snippets;
}

export function collectSnippets(): Snippet[] {
  return markdownFiles().flatMap((file) =>
    extractSnippets(file, readFileSync(join(REPO_ROOT, file), 'utf8')),
  );
}

/** The file name a snippet is written to (also names it in diagnostics). */
export function snippetFileName(snippet: Snippet): string {
  return join(SNIPPET_DIR, `${snippet.file.replace(/[^\w]+/g, '_')}_${snippet.line}.ts`);
}

/**
 * The snippet as a module: an `export {}` at the END (so line numbers match the Markdown)
 * makes each snippet its own scope and allows top-level await.
 */
function moduleSource(snippet: Snippet): string {
  return `${snippet.code}\nexport {};\n`;
}

export interface SnippetDiagnostic {
  /** `docs/session.md:57:12` */
  where: string;
  message: string;
}

/**
 * Writes every snippet and type-checks them all in ONE program with the repository's
 * compiler options (strict, exactOptionalPropertyTypes, …) plus `paths` to src/.
 * Returns the diagnostics per snippet id (an empty array: it compiles).
 */
export async function typeCheckSnippets(
  snippets: Snippet[],
): Promise<Map<string, SnippetDiagnostic[]>> {
  await rm(SNIPPET_DIR, { recursive: true, force: true });
  await mkdir(SNIPPET_DIR, { recursive: true });
  await writeFile(join(SNIPPET_DIR, 'package.json'), '{ "type": "module" }\n');
  const byFile = new Map<string, Snippet>();
  for (const snippet of snippets) {
    const fileName = snippetFileName(snippet);
    byFile.set(fileName, snippet);
    await writeFile(fileName, moduleSource(snippet));
  }

  const configPath = join(REPO_ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  const paths: Record<string, string[]> = {};
  for (const [specifier, source] of sourceEntryPoints()) paths[specifier] = [source];
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    paths,
  };
  const program = ts.createProgram({ rootNames: [...byFile.keys()], options });

  const results = new Map<string, SnippetDiagnostic[]>(snippets.map((s) => [s.id, []]));
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
  for (const diagnostic of [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
  ]) {
    // An options problem hits every snippet: report it on all of them.
    for (const list of results.values()) {
      list.push({
        where: 'tsconfig',
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      });
    }
  }
  for (const diagnostic of diagnostics) {
    const snippet =
      diagnostic.file === undefined ? undefined : byFile.get(resolve(diagnostic.file.fileName));
    if (snippet === undefined || diagnostic.file === undefined) continue; // in src/: the type check's job
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(
      diagnostic.start ?? 0,
    );
    results.get(snippet.id)?.push({
      where: `${snippet.file}:${snippet.line + line}:${character + 1}`,
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
    });
  }
  return results;
}

/**
 * Writes a runnable copy of a snippet whose package imports point straight at src/, so the
 * test runner (which transforms TypeScript) executes it without a build. Returns its path.
 */
export async function writeRunnable(snippet: Snippet): Promise<string> {
  const entries = sourceEntryPoints();
  const code = moduleSource(snippet).replace(
    /(from\s*|import\s*\(\s*|import\s+)(['"])([^'"]+)\2/g,
    (match, keyword: string, quote: string, specifier: string) => {
      const source = entries.get(specifier);
      if (source === undefined) return match;
      const path = relative(SNIPPET_DIR, source).replace(/\.ts$/, '.js');
      return `${keyword}${quote}${path.startsWith('.') ? path : `./${path}`}${quote}`;
    },
  );
  const fileName = snippetFileName(snippet).replace(/\.ts$/, '.run.ts');
  await writeFile(fileName, code);
  return fileName;
}
