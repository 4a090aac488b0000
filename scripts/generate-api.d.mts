/** Types of scripts/generate-api.mjs, for the tests that import it. */

/** The hand-written input: scripts/api-names.json, plus scripts/api-always-sent.json. */
export interface GeneratorConfig {
  names: Record<string, string>;
  replacements: Record<string, [method: string, note: string]>;
  listParams: Record<string, string>;
  paramTypes: Record<string, string>;
  /** Schema name → properties declared required although the description leaves them optional. */
  alwaysSent: Record<string, string[]>;
}

/** Everything the generator writes: file name → text (before formatting), and docs/api.md. */
export declare function generate(
  specText: string,
  config: GeneratorConfig,
): { files: Record<string, string>; docs: string; operations: unknown[] };

/** Reads both hand-written input files from scripts/. */
export declare function readConfig(): GeneratorConfig;
