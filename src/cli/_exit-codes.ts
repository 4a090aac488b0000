/**
 * The exit codes of every `spotify-session` command (docs/cli.md lists them).
 * Scripts branch on these, so a code never changes meaning.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** A request or the runtime failed (Spotify refused, network, port in use, …). */
  failed: 1,
  /** Bad usage or configuration: fix the command line or the environment. */
  usage: 2,
  /** Not logged in, or the login expired: run `spotify-session login`. */
  notLoggedIn: 3,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends a command with `exitCode` and prints only `message` (one line). */
export class CommandError extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandError';
    this.exitCode = exitCode;
  }
}
