/**
 * `@spotify-session/cli/emulator`: a faithful local Spotify Accounts service
 * (`GET /authorize`, `POST /api/token`) for tests and local development.
 * @module
 */
export { createEmulator, type Emulator } from './_emulator.js';
export type { ActiveFault, EmulatorFault, FaultEndpoint } from './_faults.js';
export { DEFAULT_EMULATOR_HOST, type EmulatorServer, type ListenOptions } from './_listen.js';
export {
  DEMO_APP,
  DEMO_USERS,
  type EmulatorApp,
  type EmulatorOptions,
  type EmulatorUser,
  type RotationPolicy,
} from './_options.js';
export { OPEN_ACCESS_SCOPES, STANDARD_SCOPES } from './_scopes.js';
export type { AccessTokenInfo, EmulatorStats } from './_state.js';
