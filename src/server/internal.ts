/**
 * What the token server shares with the CLI beyond its entry points (`index.ts`,
 * `node/index.ts`) and public modules: the misspelt-variable detection, which the CLI's
 * account commands run on their own variables. The CLI imports it from here, never from the
 * `_`-prefixed file. Not an entry point of a package: any of it may change in any release.
 */
export { nearMissMessage, nearMissNames } from './_env-near-miss.js';
