/**
 * Registers `login`, `token`, `api`, `whoami` and `logout`. Only argument parsing lives
 * here; each action loads its module when it runs, so `--help` stays fast. `token`, `api` and
 * `whoami` in their plain forms do not come here at all: `_account-argv.ts` reads them (its
 * table must say what the definitions below say; its test checks).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ACCOUNT_VARIABLES, type AccountInvocation } from './_account-argv.js';

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) {
    throw new InvalidArgumentError('must be an integer from 0 to 65535.');
  }
  return Number(value);
}

function parseSeconds(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3600) {
    throw new InvalidArgumentError('must be a whole number of seconds from 1 to 3600.');
  }
  return Number(value) * 1000;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const profileOption = () =>
  new Option('--profile <name>', 'which stored login to use (env SPOTIFY_PROFILE)').default(
    undefined,
    'default',
  );
const clientIdOption = () =>
  new Option('--client-id <id>', 'your app’s client ID (env SPOTIFY_CLIENT_ID)');

const ENVIRONMENT = `
Environment:
${ACCOUNT_VARIABLES.map(([name, meaning]) => `  ${name.padEnd(21)}  ${meaning}`).join('\n')}

Exit codes: 0 ok, 1 request failed, 2 usage or configuration error, 3 not logged in or login expired.`;

/** Runs what commander read, as the fast path does (the runner loads when a command runs). */
async function run(invocation: AccountInvocation): Promise<void> {
  await (await import('./_account-run.js')).runAccountCommand(invocation);
}

export function registerAccountCommands(program: Command): void {
  program
    .command('login')
    .description('Log in to Spotify in the browser (PKCE, no client secret) and store the tokens.')
    .addOption(
      new Option('--scope <scopes...>', 'scopes to ask for, space- or comma-separated').default(
        undefined,
        'user-read-private',
      ),
    )
    .addOption(clientIdOption())
    .addOption(
      new Option(
        '--port <port>',
        'loopback port of the redirect URI http://127.0.0.1:PORT/callback',
      )
        .argParser(parsePort)
        .default(8888),
    )
    .addOption(profileOption())
    .option('--no-open', 'print the URL but do not open a browser')
    .addOption(
      new Option('--timeout <seconds>', 'how long to wait for the login')
        .argParser(parseSeconds)
        .default(300_000, '300'),
    )
    .addHelpText(
      'after',
      `
The redirect URI is http://127.0.0.1:PORT/callback. Register it for your app in the Spotify
dashboard. If you register it without a port (http://127.0.0.1/callback), Spotify accepts
any port; with a port, pass the same --port here. Spotify refuses "localhost" redirect URIs.
The URL is always printed, so this works over SSH with --no-open too.
${ENVIRONMENT}

Examples:
  $ spotify-session login --client-id 1a2b3c… --scope user-read-private playlist-read-private
  $ SPOTIFY_CLIENT_ID=1a2b3c… spotify-session login --profile work --port 0 --no-open`,
    )
    .action(async (flags) =>
      (await import('./_account-run.js')).runAccount(flags, async () => {
        const { login } = await import('./_login.js');
        await login(flags, process.env);
      }),
    );

  program
    .command('token')
    .description('Print a valid access token, refreshing (and storing) it when needed.')
    .addOption(profileOption())
    .addOption(clientIdOption())
    .option('--json', 'print { accessToken, expiresAt, scope } as JSON')
    .addHelpText(
      'after',
      `${ENVIRONMENT}

Examples:
  $ curl -H "Authorization: Bearer $(spotify-session token)" https://api.spotify.com/v1/me
  $ spotify-session token --profile work --json`,
    )
    .action((flags) => run({ command: 'token', flags }));

  program
    .command('api')
    .description('Call the Web API with the stored login and print the JSON answer.')
    .argument('<method>', 'GET, POST, PUT or DELETE')
    .argument('<path>', 'path below /v1, e.g. /me or /me/player/devices')
    .option('--query <key=value>', 'query parameter (repeatable)', collect)
    .option('--data <json>', 'JSON body; @file reads a file, @- reads stdin')
    .addOption(profileOption())
    .addOption(clientIdOption())
    .addHelpText(
      'after',
      `
Pretty JSON on a terminal, compact JSON when piped. Errors are one line on stderr.
${ENVIRONMENT}

Examples:
  $ spotify-session api GET /me
  $ spotify-session api GET /search --query q=radiohead --query type=artist --query limit=5
  $ spotify-session api POST /me/playlists --data '{"name":"Road trip"}'
  $ spotify-session api PUT /me/player/pause`,
    )
    .action((method: string, path: string, flags) => run({ command: 'api', method, path, flags }));

  program
    .command('whoami')
    .description('Print the logged-in user.')
    .addOption(profileOption())
    .addOption(clientIdOption())
    .option('--json', 'print the whole /me answer')
    .addHelpText('after', `${ENVIRONMENT}\n\nExample:\n  $ spotify-session whoami --profile work`)
    .action((flags) => run({ command: 'whoami', flags }));

  program
    .command('logout')
    .description('Forget the stored tokens of a profile.')
    .addOption(profileOption())
    .addHelpText(
      'after',
      `
This deletes the tokens on this machine. To revoke the app's access in your Spotify
account too, remove it at https://www.spotify.com/account/apps/.
${ENVIRONMENT}

Example:
  $ spotify-session logout --profile work`,
    )
    .action(async (flags) =>
      (await import('./_account-run.js')).runAccount(flags, async () => {
        const { logout } = await import('./_account.js');
        await logout(flags, process.env);
      }),
    );
}
