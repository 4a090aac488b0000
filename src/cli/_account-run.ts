/**
 * Runs `login`, `token`, `api`, `whoami` and `logout` once their command line is parsed, by
 * commander (`_account-commands.ts`) or, for the everyday three, by `_account-argv.ts`: both
 * call the same functions here, so output, errors and exit codes do not depend on the parser.
 * `token` with a valid stored login needs nothing beyond this module, the profile and the
 * file store's reading side; everything else loads its module when it runs.
 */
import { nearMissMessage, nearMissNames } from '../server/internal.js';
import { ACCOUNT_VARIABLES, type AccountFlags, type AccountInvocation } from './_account-argv.js';
import { CommandError } from './_exit-codes.js';
import { type ProfileFlags, profileName, readValidStoredTokens } from './_profile.js';

/**
 * Runs an account command's body: first a line for each variable that is almost one the
 * command reads, then the body, whose data goes to stdout; a failure becomes one stderr line
 * and the exit code.
 */
export async function runAccount(flags: ProfileFlags, body: () => Promise<void>): Promise<void> {
  const known = ACCOUNT_VARIABLES.map(([name]) => name);
  for (const miss of nearMissNames(process.env, known)) {
    process.stderr.write(`spotify-session: ${nearMissMessage(miss)}\n`);
  }
  try {
    await body();
  } catch (error) {
    // The error mapping knows core's errors: loaded only when there is one to map.
    const failure =
      error instanceof CommandError
        ? error
        : (await import('./_stored-session.js')).toCommandError(
            error,
            profileName(flags, process.env),
          );
    process.stderr.write(`error: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  }
}

/** `token`, `api METHOD PATH` or `whoami`, however its command line was parsed. */
export function runAccountCommand(invocation: AccountInvocation): Promise<void> {
  const { flags } = invocation;
  return runAccount(flags, async () => {
    if (invocation.command === 'token') return printToken(flags, process.env);
    const account = await import('./_account.js');
    if (invocation.command === 'api') {
      return account.callApi(invocation.method, invocation.path, flags, process.env);
    }
    return account.whoami(flags, process.env);
  });
}

/** Data on stdout: a string as it is, anything else as JSON (pretty on a terminal). */
export function print(value: unknown, pretty: boolean): void {
  if (value === undefined || value === null || value === '') return;
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, pretty ? 2 : 0);
  process.stdout.write(`${text}\n`);
}

/**
 * `token`: a valid access token. A stored one valid for the next minute is printed as it is
 * (one read of the tokens file); otherwise the Session renews it under the store's lock and
 * stores the answer (a rotated refresh token included) before it is printed.
 */
export async function printToken(flags: AccountFlags, env: NodeJS.ProcessEnv): Promise<void> {
  const stored = await readValidStoredTokens(flags, env);
  if (stored !== undefined) {
    printAccessToken(stored.accessToken as string, stored.expiresAt, stored.scope ?? [], flags);
    return;
  }
  const { withStoredSession } = await import('./_stored-session.js');
  await withStoredSession(flags, env, async (session) => {
    const accessToken = await session.getValidAccessToken();
    printAccessToken(accessToken, session.getTokenExpiration(), session.getScope(), flags);
  });
}

function printAccessToken(
  accessToken: string,
  expiresAt: number | undefined,
  scope: readonly string[],
  flags: AccountFlags,
): void {
  if (flags.json === true) {
    print({ accessToken, expiresAt, scope }, process.stdout.isTTY === true);
    return;
  }
  process.stdout.write(`${accessToken}\n`);
}
