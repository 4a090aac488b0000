/**
 * Every TypeScript snippet in README.md and docs/ compiles, and the ones marked runnable
 * (a ```ts run fence) run.
 *
 * All snippets are type-checked in one TypeScript program with the repository's strict
 * options, their `spotify-session…` imports resolved to src/. A snippet declares what it
 * takes from its surroundings (`declare const clientId: string;`) instead of using
 * undeclared names.
 *
 * A runnable snippet is executed as written, against the emulator on 127.0.0.1: requests
 * to https://accounts.spotify.com and https://api.spotify.com go to the emulator, and the
 * names snippets conventionally declare (`clientId`, `clientSecret`, `redirectUri`) are
 * globals holding the emulator's demo app, so `declare const clientId: string;` is bound
 * at run time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../src/emulator/index.js';
import {
  collectSnippets,
  removeSnippetFiles,
  type SnippetDiagnostic,
  typeCheckSnippets,
  writeRunnable,
} from './support/snippets.js';

const snippets = collectSnippets();

afterAll(removeSnippetFiles);

/** The globals a runnable snippet may rely on, by the names the docs declare. */
const SNIPPET_GLOBALS = {
  clientId: DEMO_APP.clientId,
  clientSecret: DEMO_APP.clientSecret,
  redirectUri: 'http://127.0.0.1:8888/callback',
};

const SPOTIFY_ORIGINS = ['https://accounts.spotify.com', 'https://api.spotify.com'];

describe('documentation snippets', () => {
  let diagnostics: Map<string, SnippetDiagnostic[]>;

  beforeAll(async () => {
    diagnostics = await typeCheckSnippets(snippets);
  }, 120_000);

  it('finds the snippets of README.md and docs/', () => {
    expect(snippets.filter((s) => s.file === 'README.md').length).toBeGreaterThan(0);
    expect(snippets.filter((s) => s.file.startsWith('docs/')).length).toBeGreaterThan(0);
  });

  it.for(snippets.map((snippet) => ({ ...snippet, label: snippet.id })))(
    'type-checks $label',
    (snippet, { expect }) => {
      const found = diagnostics.get(snippet.id) ?? [];
      // One string, so the runner prints every diagnostic in full.
      expect(found.map((d) => `${d.where}: ${d.message}`).join('\n')).toBe('');
    },
  );
});

const runnable = snippets.filter((snippet) => snippet.run);

describe.skipIf(runnable.length === 0)('runnable documentation snippets', () => {
  let accounts: EmulatorServer;
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    accounts = await createEmulator({ autoApprove: true, rotation: 'always' }).listen({
      port: 0,
      host: '127.0.0.1',
    });
    // Spotify's hosts → the emulator, whatever form the request comes in.
    globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const origin = SPOTIFY_ORIGINS.find((o) => request.url.startsWith(`${o}/`));
      if (origin === undefined) return realFetch(request);
      return realFetch(new Request(accounts.url + request.url.slice(origin.length), request));
    };
    Object.assign(globalThis, SNIPPET_GLOBALS);
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    for (const name of Object.keys(SNIPPET_GLOBALS)) Reflect.deleteProperty(globalThis, name);
    await accounts?.close();
  });

  it.for(runnable.map((snippet) => ({ ...snippet, label: snippet.id })))(
    'runs $label',
    async (snippet) => {
      const file = await writeRunnable(snippet);
      await import(/* @vite-ignore */ file);
    },
  );
});
