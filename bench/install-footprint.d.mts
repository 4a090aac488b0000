/** Types of bench/install-footprint.mjs, for the test that imports it. */
export interface Footprint {
  /** `name@version` of every package in node_modules, the installed one included. */
  packages: string[];
  count: number;
  /** `du -sk node_modules` × 1024. */
  diskBytes: number;
  /** Sum of the files' sizes. */
  fileBytes: number;
}
export declare function measureFootprint(dir: string): Footprint;
export declare function formatMB(bytes: number): string;
