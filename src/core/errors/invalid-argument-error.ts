import { SpotifyError } from './spotify-error.js';

/** A method was called with an argument it cannot use; the message names it. */
export class InvalidArgumentError extends SpotifyError {
  /** Name of the offending argument. */
  readonly argument: string;

  constructor(argument: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}
