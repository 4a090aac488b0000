import { SpotifyError } from './spotify-error.js';

/**
 * The options given to a constructor cannot work (for example a redirect URI
 * that Spotify refuses). The message says what to use instead.
 */
export class ConfigurationError extends SpotifyError {
  /** Name of the offending option, e.g. `redirectUri`. */
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_CONFIGURATION', message, options);
    this.name = 'ConfigurationError';
    this.option = option;
  }
}
