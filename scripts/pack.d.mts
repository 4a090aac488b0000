/** Types of scripts/pack.mjs, for the tests that import it. */
export declare const REPO_ROOT: string;
export declare const OUT_DIR: string;
export declare const PACKAGES: ReadonlyArray<{ folder: string; parts: string[] }>;

export interface AssembledPackage {
  name: string;
  folder: string;
  /** Absolute directory of the assembled package (dist-packages/<folder>). */
  dir: string;
  manifest: {
    name: string;
    version: string;
    exports: Record<string, unknown>;
    bin?: Record<string, string>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  files: number;
}

export declare function distIsStale(): boolean;
export declare function assemblePackages(options?: {
  build?: 'if-stale' | 'always' | 'never';
  log?: (line: string) => void;
}): Promise<AssembledPackage[]>;
/** `npm pack` of an assembled package into `destination`; the tarball's absolute path. */
export declare function packPackage(dir: string, destination?: string): string;
