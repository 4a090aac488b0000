/** Types of scripts/scratch-install.mjs, for the tests that import it. */
import type { AssembledPackage } from './pack.mjs';

/** The root package-lock.json. */
export declare const ROOT_LOCKFILE: string;
/** `'locked'`: the versions of the root lockfile (npm ci); `'latest'`: the newest the ranges allow. */
export type DependencyMode = 'locked' | 'latest';
export declare const DEPENDENCY_MODES: readonly DependencyMode[];

/** A packed package: its tarball and the manifest it was packed with. */
export interface PackedPackage {
  tarball: string;
  manifest: AssembledPackage['manifest'];
}

export interface InstalledPackage {
  /** Lockfile-style path: `node_modules/a/node_modules/b`. */
  path: string;
  name: string;
  version: string;
}

export interface Drift {
  path: string;
  name: string;
  installed: string;
  /** The root lockfile's version at the same path; undefined when it has none there. */
  locked: string | undefined;
}

export declare function createScratchProject(prefix?: string): Promise<string>;
export declare function removeScratchProject(dir: string): Promise<void>;
export declare function npmInstall(dir: string, specs: string[]): number;
export declare function lockedClosure(
  entries: Record<string, object>,
  roots: Array<{ name: string; entry: object }>,
): Record<string, object>;
/** Installs the tarballs into `dir`; milliseconds taken. */
export declare function installPacked(
  dir: string,
  packed: PackedPackage[],
  options?: { deps?: DependencyMode },
): number;
export declare function installedPackages(dir: string): InstalledPackage[];
export declare function lockfileDrift(dir: string, ours: string[]): Drift[];
