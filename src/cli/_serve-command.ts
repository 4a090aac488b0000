import { type Command, Option } from 'commander';
import { createEmulator, DEMO_APP } from '../emulator/index.js';
import { Keyring } from '../server/keyring.js';
import {
  loadTokenServerOptions,
  type ServeSettings,
  type TokenServerFlags,
} from '../server/load-options.js';
import type { TokenServerOptions } from '../server/options.js';
import { flagKey, SETTING_ROWS, SETTINGS } from '../server/settings.js';
import { EXIT } from './_exit-codes.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Secrets someone may try to pass as a flag: refused with the variable to use instead. */
const SECRET_FLAGS = [
  ['--client-secret', 'SPOTIFY_CLIENT_SECRET'],
  ['--token-encryption-keys', 'TOKEN_ENCRYPTION_KEYS'],
  ['--encryption-keys', 'TOKEN_ENCRYPTION_KEYS'],
] as const;

/** What `serve --help` says of a setting's values and default: ` (0–65535) [default: 3000]`. */
function valuesAndDefault(setting: (typeof SETTINGS)[number]): string {
  const values = setting.values === undefined ? '' : ` (${setting.values.replaceAll('`', '')})`;
  const fallback = setting.default === undefined ? '' : ` [default: ${setting.default}]`;
  return `${values}${fallback}`;
}

/** `serve --help`'s epilogue: every setting (env-only ones included) and the exit codes. */
function settingsHelp(): string {
  const width = Math.max(...SETTINGS.map((setting) => setting.env.length));
  const lines = SETTINGS.map((setting) => {
    const flag = setting.flag === undefined ? '(environment only)' : setting.flag;
    return `  ${setting.env.padEnd(width)}  ${flag}: ${setting.description}${valuesAndDefault(setting)}`;
  });
  return `
Environment variables (a flag, where there is one, overrides its variable):
${lines.join('\n')}

Without SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET (and NODE_ENV unset, development or test)
the server runs against an embedded emulator with a throw-away key.

Exit codes:
  0  stopped cleanly (SIGTERM or SIGINT)
  1  could not start or failed while running (e.g. the port is in use)
  2  usage or configuration error (each problem is printed on its own line)

Examples:
  $ spotify-session serve                  # demo mode: embedded emulator, curl walk-through
  $ export TOKEN_ENCRYPTION_KEYS="$(spotify-session keys generate)"
  $ SPOTIFY_CLIENT_ID=… SPOTIFY_CLIENT_SECRET=… SPOTIFY_REDIRECT_URI=myapp://callback \\
      NODE_ENV=production HOST=0.0.0.0 spotify-session serve --base-path /v1

See docs/server.md ("Configuration") and docs/cli.md.
`;
}

/** `spotify-session serve`: the token swap and refresh server for the mobile SDKs. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description(
      'Run the token swap and refresh server for Spotify mobile SDKs (tokenSwapURL / tokenRefreshURL). ' +
        'Without Spotify credentials (and NODE_ENV not production) it runs against an embedded emulator.',
    );
  for (const [index, setting] of SETTINGS.entries()) {
    if (setting.flag === undefined) continue;
    const fallback = setting.default === undefined ? '' : `, default ${setting.default}`;
    const description = `${setting.description} (env ${setting.env}${fallback})`;
    if (SETTING_ROWS[index]?.repeatable) {
      command.option(`${setting.flag} <values>`, `${description}; repeatable`, collect);
    } else command.option(`${setting.flag} <value>`, description);
  }
  for (const [flag] of SECRET_FLAGS) {
    command.addOption(new Option(`${flag} <value>`).hideHelp());
  }
  command.addHelpText('after', settingsHelp());
  command.action(async (flags: Record<string, unknown>) => {
    for (const [flag, variable] of SECRET_FLAGS) {
      if (flags[flagKey(flag)] !== undefined) {
        command.error(
          `error: ${flag} is not accepted: flags show up in \`ps\` and shell history. ` +
            `Set ${variable} in the environment instead.`,
          { exitCode: EXIT.usage, code: 'spotify-session.secret-flag' },
        );
      }
    }
    await runServe(flags as TokenServerFlags);
  });
}

async function runServe(flags: TokenServerFlags): Promise<void> {
  const loaded = loadTokenServerOptions(process.env, flags, { embedded: true });
  if (!loaded.ok) {
    process.stderr.write(
      `spotify-session serve: the configuration cannot work:\n${loaded.problems
        .map((problem) => `  - ${problem}`)
        .join('\n')}\nSee docs/server.md ("Configuration").\n`,
    );
    process.exit(EXIT.usage);
  }
  // Before anything starts (the demo mode's banner included): a misspelt variable explains
  // why a setting seems ignored.
  for (const warning of loaded.warnings)
    process.stderr.write(`spotify-session serve: ${warning}\n`);
  const { serve } = loaded;
  // Loaded here, not at the top: Redis, Prometheus and the Node listener would
  // otherwise slow every other command (and --help) by about 0.2 s.
  const { closeOnSignals, serveTokenServer } = await import('../server/node/index.js');

  let options: TokenServerOptions;
  let closeEmulator: (() => Promise<void>) | undefined;
  if (loaded.mode === 'embedded') {
    const emulator = createEmulator({ autoApprove: true });
    const listening = await emulator.listen({ port: 0, host: '127.0.0.1' });
    closeEmulator = () => listening.close();
    options = {
      ...loaded.options,
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      // App schemes first: that is what the iOS SDK uses.
      redirectUris: [...DEMO_APP.redirectUris].sort(
        (a, b) => Number(a.startsWith('http')) - Number(b.startsWith('http')),
      ),
      accountsUrl: listening.url,
      encryptionKeys: loaded.options.encryptionKeys ?? Keyring.generateKeyString(),
    };
  } else options = loaded.options;

  let running: Awaited<ReturnType<typeof serveTokenServer>>;
  try {
    running = await serveTokenServer({ ...options, ...listenerOptions(serve) });
  } catch (error) {
    const { code, name } = error as { code?: string; name?: string };
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `spotify-session serve: ${serve.host}:${serve.port} is already in use (set PORT or --port)\n`
        : `spotify-session serve: could not start: ${(error as Error).message}\n`,
    );
    await closeEmulator?.();
    process.exit(name === 'ConfigurationError' ? EXIT.usage : EXIT.failed);
  }

  closeOnSignals(
    {
      async close() {
        await running.close();
        await closeEmulator?.();
      },
    },
    running.tokenServer.logger,
  );

  if (loaded.mode !== 'embedded') {
    // A person at a terminal gets told how to stop it; a service manager's log does not.
    if (process.stderr.isTTY) process.stderr.write('Press Ctrl+C to stop.\n');
  } else {
    process.stderr.write(
      embeddedBanner({
        serverUrl: `${running.url}${loaded.options.basePath ?? ''}`,
        emulatorUrl: options.accountsUrl as string,
        clientId: options.clientId,
        redirectUri: options.redirectUris[0] as string,
      }),
    );
  }
}

/** The listener part of the loaded settings, as serveTokenServer options. */
function listenerOptions(serve: ServeSettings) {
  const { redisUrl, ...rest } = serve;
  return { ...rest, ...(redisUrl === undefined ? {} : { redisUrl }) };
}

function embeddedBanner(input: {
  serverUrl: string;
  emulatorUrl: string;
  clientId: string;
  redirectUri: string;
}): string {
  const authorize = new URL('/authorize', input.emulatorUrl);
  authorize.search = new URLSearchParams({
    client_id: input.clientId,
    response_type: 'code',
    redirect_uri: input.redirectUri,
    scope: 'user-read-private streaming',
  }).toString();
  const line = '!'.repeat(78);
  return `
${line}
!!  DEMO MODE: no Spotify credentials, so this server talks to an EMBEDDED EMULATOR
!!  of Spotify's Accounts service at ${input.emulatorUrl}
!!  with a THROW-AWAY encryption key. Nothing here reaches Spotify, and every sealed
!!  refresh token dies with this process. For real use set SPOTIFY_CLIENT_ID,
!!  SPOTIFY_CLIENT_SECRET, SPOTIFY_REDIRECT_URI and TOKEN_ENCRYPTION_KEYS
!!  (see docs/server.md). With NODE_ENV=production this mode is refused.
${line}

Try it (a POSIX shell with curl and sed; paste the lines of each step in order):

  1. Get a code: the emulator approves at once as "demo-user" and redirects to the app.
     CODE=$(curl -s -o /dev/null -w '%{redirect_url}' '${authorize.href}' | sed 's/.*[?&]code=//')

  2. Swap the code, as the iOS SDK does (tokenSwapURL):
     SWAP=$(curl -s -X POST '${input.serverUrl}/swap' -H 'Content-Type: application/x-www-form-urlencoded' --data-urlencode "code=$CODE"); echo "$SWAP"

  3. Refresh with the sealed refresh_token the swap returned (tokenRefreshURL):
     REFRESH_TOKEN=$(echo "$SWAP" | sed 's/.*"refresh_token":"\\([^"]*\\)".*/\\1/')
     REFRESHED=$(curl -s -X POST '${input.serverUrl}/refresh' -H 'Content-Type: application/x-www-form-urlencoded' --data-urlencode "refresh_token=$REFRESH_TOKEN"); echo "$REFRESHED"

  4. Call the Web API (the emulator's, at ${input.emulatorUrl}/v1) with the new access token:
     ACCESS_TOKEN=$(echo "$REFRESHED" | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
     curl -s '${input.emulatorUrl}/v1/me' -H "Authorization: Bearer $ACCESS_TOKEN"

Press Ctrl+C to stop.
`;
}
