import { describe, expect, it } from 'vitest';
import { extractSnippets } from './snippets.js';

describe('extractSnippets', () => {
  it('takes ts and typescript blocks with their line, flags and indentation', () => {
    const markdown = [
      '# Title', // 1
      '```ts', // 2
      'const a = 1;', // 3
      '```', // 4
      '```sh', // 5
      'npm test', // 6
      '```', // 7
      '- a list item:', // 8
      '  ```typescript run', // 9
      '  const b = 2;', // 10
      '    const c = 3;', // 11
      '  ```', // 12
    ].join('\n');
    expect(extractSnippets('x.md', markdown)).toEqual([
      { id: 'x.md:2', file: 'x.md', line: 3, code: 'const a = 1;', run: false },
      { id: 'x.md:9', file: 'x.md', line: 10, code: 'const b = 2;\n  const c = 3;', run: true },
    ]);
  });

  it('does not end a block at a shorter fence or one with a language', () => {
    const markdown = [
      '````md', // a block that shows a fence
      '```ts',
      'not a snippet',
      '```',
      '````',
      '```ts',
      'const shown = "```ts inside a string";',
      '```',
    ].join('\n');
    expect(extractSnippets('y.md', markdown).map((s) => s.code)).toEqual([
      'const shown = "```ts inside a string";',
    ]);
  });

  it('ignores other flags and never treats a missing closing fence as a crash', () => {
    const snippets = extractSnippets('z.md', '```ts title="a.ts"\nconst x = 1;\n');
    expect(snippets).toEqual([
      { id: 'z.md:1', file: 'z.md', line: 2, code: 'const x = 1;\n', run: false },
    ]);
  });
});
