/**
 * What `spotify-session/api` shares with the CLI and is not public: the lookup of an operation
 * by method and path (`spotify-session api GET /me/…` names the method it matches). The CLI
 * imports it from here, never from the `_`-prefixed file. Not an entry point of a package.
 */
export { operationAt } from './_operations.js';
