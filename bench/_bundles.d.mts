/** Types of bench/_bundles.mjs, for the test that imports it. */
export interface Program {
  /** The program's source (TypeScript, importing from src/ or a package). */
  source: string;
  /** Whether it gives the Session a store, so that it loads the lazy chunks. */
  store: boolean;
  /** `true` for Spotify's official SDK. */
  official?: boolean;
}
export interface OutputFile {
  name: string;
  /** The program's entry chunk. */
  entry: boolean;
  minified: number;
  gzip: number;
  /** Minified bytes per module (path from `src/`, or the package's), largest first. */
  modules: { path: string; bytes: number }[];
  imports: { name: string; dynamic: boolean }[];
}
export interface Chunks {
  files: OutputFile[];
  gzip: number;
  minified: number;
}
export interface Measured {
  /** With code splitting: the files loaded at start (entry and static imports). */
  start: Chunks;
  /** With code splitting: the files loaded by `import()` (the store part), and theirs. */
  lazy: Chunks;
  /** gzip bytes of what the program loads: `start`, plus `lazy` when it gives a store. */
  loaded: number;
  /** Without code splitting: one file, the lazy modules inlined. */
  oneFile: OutputFile;
}
export declare const ROOT: string;
export declare const PROGRAMS: Record<string, Program>;
export declare function measure(program: Program): Promise<Measured>;
