/**
 * What the Node-only parts (the CLI, the emulator's port, the token server's Node adapter)
 * share of `src/node`: binding a loopback listener and writing to stdout/stderr when nobody
 * may be reading. No Spotify logic, and nothing of the library, so the emulator may use it
 * while importing nothing of core, api, stores or server. Parts import it from here, never
 * from the `_`-prefixed files. Not an entry point of a package.
 */
export { type BoundAddress, bindServer, closeNow } from './_listen.js';
export { bodyOf, headerRecord } from './_request-init.js';
export { stdoutLogDestination, tolerateClosedStdio, writeBestEffort } from './_stdio.js';
