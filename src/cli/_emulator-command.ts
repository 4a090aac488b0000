import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  createEmulator,
  DEMO_APP,
  DEMO_USERS,
  type EmulatorOptions,
  type RotationPolicy,
} from '../emulator/index.js';
import { EXIT } from './_exit-codes.js';

interface EmulatorCommandOptions {
  port: number;
  host: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string[];
  autoApprove?: string;
  rotate: RotationPolicy;
  extendedQuota?: boolean;
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535)
    throw new InvalidArgumentError('must be an integer from 0 to 65535.');
  return Number(value);
}

/** `--redirect-uri` repeated and/or comma-separated, as in `serve`; an empty entry is refused. */
function collect(value: string, previous: string[] | undefined): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) {
    throw new InvalidArgumentError('an entry is empty (look for a doubled or trailing comma).');
  }
  return [...(previous ?? []), ...entries];
}

/** Speaks of flags, not of the option names createEmulator's messages use. */
function inFlagTerms(message: string, redirectUris: readonly string[]): string {
  return message
    .replace(
      /EmulatorOptions\.apps\[0\]\.redirectUris\[(\d+)\]/,
      (_match, index: string) => `--redirect-uri ${redirectUris[Number(index)] ?? ''}`,
    )
    .replace('EmulatorOptions.apps[0].clientId', '--client-id')
    .replace('EmulatorOptions.apps[0].clientSecret', '--client-secret')
    .replace('EmulatorOptions.autoApprove', '--auto-approve');
}

function fail(program: Command, message: string): never {
  program.error(`error: ${message}`, { exitCode: EXIT.usage, code: 'spotify-session.emulator' });
}

/**
 * The command that logs the CLI in against this emulator, to copy and paste. `login` listens
 * on http://127.0.0.1:PORT/callback; Spotify's rules (which the emulator follows) accept any
 * port for a loopback URI, so one registered with the path /callback is enough.
 */
function loginLine(url: string, app: { clientId: string; redirectUris: readonly string[] }) {
  const loopback = app.redirectUris.some((uri) => {
    try {
      const parsed = new URL(uri);
      return (
        parsed.protocol === 'http:' &&
        ['127.0.0.1', '[::1]'].includes(parsed.hostname) &&
        parsed.pathname === '/callback' &&
        parsed.search === ''
      );
    } catch {
      return false;
    }
  });
  if (!loopback) {
    return 'To log the CLI in against it, register http://127.0.0.1:8888/callback (--redirect-uri).';
  }
  return (
    'Log the CLI in against it (then `spotify-session api GET /me`):\n' +
    `  SPOTIFY_ACCOUNTS_URL=${url} SPOTIFY_API_URL=${url}/v1 spotify-session login --client-id ${app.clientId} --no-open`
  );
}

/**
 * `spotify-session emulator`: serves a local Spotify Accounts service until
 * SIGINT/SIGTERM, printing its URL and the app's (demo) credentials.
 */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run a local Spotify for development and tests: the Accounts service (GET /authorize, POST /api/token) and the Web API under /v1.',
    )
    .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 4510)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--client-id <id>', `client id of the app (default: ${DEMO_APP.clientId})`)
    .option('--client-secret <secret>', 'client secret of the app (default: the demo secret)')
    .option(
      '--redirect-uri <uri>',
      "registered redirect URIs, comma-separated or repeated (default: the demo app's)",
      collect,
    )
    .option(
      '--auto-approve <userId>',
      `approve every /authorize at once as this user (${DEMO_USERS.map((user) => user.id).join(', ')})`,
    )
    .addOption(
      new Option('--rotate <policy>', 'refresh-token rotation')
        .choices(['never', 'always', 'pkce'])
        .default('never'),
    )
    .option(
      '--extended-quota',
      "give the app extended quota: the Web API's withdrawn endpoints answer it (default: Development Mode, like a new app)",
    )
    .addHelpText(
      'after',
      `
Point your code at it: accountsUrl / SPOTIFY_ACCOUNTS_URL = the printed URL, and
apiUrl / SPOTIFY_API_URL = the printed URL + /v1. The control API under /__emulator/
(stats, faults, clock, revocation, extended quota) is described in docs/emulator.md.

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot listen (e.g. the port is in use),
2 usage error.

Examples:
  $ spotify-session emulator --auto-approve demo-user
  $ spotify-session emulator --port 0 --rotate always --redirect-uri http://127.0.0.1:8888/callback
  $ SPOTIFY_ACCOUNTS_URL=http://127.0.0.1:4510 SPOTIFY_API_URL=http://127.0.0.1:4510/v1 \\
      spotify-session login --client-id ${DEMO_APP.clientId}`,
    )
    .action(async (flags: EmulatorCommandOptions, command: Command) => {
      const app = {
        clientId: flags.clientId ?? DEMO_APP.clientId,
        clientSecret: flags.clientSecret ?? DEMO_APP.clientSecret,
        redirectUris: flags.redirectUri ?? [...DEMO_APP.redirectUris],
        extendedQuota: flags.extendedQuota === true,
      };
      const options: EmulatorOptions = { apps: [app], rotation: flags.rotate };
      if (flags.autoApprove !== undefined) options.autoApprove = flags.autoApprove;

      let emulator: ReturnType<typeof createEmulator>;
      try {
        emulator = createEmulator(options);
      } catch (error) {
        fail(command, inFlagTerms((error as Error).message, app.redirectUris));
      }
      let server: Awaited<ReturnType<typeof emulator.listen>>;
      try {
        server = await emulator.listen({ port: flags.port, host: flags.host });
      } catch (error) {
        // A runtime failure, not a usage error: exit 1, without the usage text.
        process.stderr.write(
          `spotify-session emulator: cannot listen on ${flags.host}:${flags.port}: ${(error as Error).message}\n`,
        );
        process.exit(EXIT.failed);
      }

      console.log(`Spotify emulator (Accounts service and Web API) listening on ${server.url}`);
      console.log(`  accounts URL:   ${server.url}  (GET /authorize, POST /api/token)`);
      console.log(`  Web API URL:    ${server.url}/v1  (SPOTIFY_API_URL, SpotifyWebAPI's apiUrl)`);
      console.log(`  client id:      ${app.clientId}`);
      console.log(`  client secret:  ${app.clientSecret}`);
      console.log(`  redirect URIs:  ${app.redirectUris.join(', ')}`);
      console.log(`  users:          ${DEMO_USERS.map((user) => user.id).join(', ')}`);
      console.log(`  auto-approve:   ${flags.autoApprove ?? 'off (consent page)'}`);
      console.log(`  rotation:       ${flags.rotate}`);
      console.log(
        `  quota:          ${app.extendedQuota ? 'extended (withdrawn endpoints answer)' : 'Development Mode (withdrawn endpoints answer 403; --extended-quota to change)'}`,
      );
      console.log(`  control API:    ${server.url}/__emulator/stats`);
      console.log(`\n${loginLine(server.url, app)}\n`);
      console.log('Press Ctrl+C to stop.');

      const stop = (signal: NodeJS.Signals) => {
        console.log(`\n${signal}: stopping the emulator.`);
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
