import type { Command } from 'commander';
import { createEmulator, DEMO_APP } from '../emulator/index.js';
import { loadServeConfig, type ServeFlags } from '../server/_config.js';
import { resolveLogger } from '../server/_options.js';
import { Keyring } from '../server/keyring.js';

/** `spotify-session serve`: the token swap and refresh server for the mobile SDKs. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the token swap and refresh server for Spotify mobile SDKs (tokenSwapURL / tokenRefreshURL). ' +
        'Without Spotify credentials (and NODE_ENV not production) it runs against an embedded emulator.',
    )
    .option('--client-id <id>', 'Spotify client id (env SPOTIFY_CLIENT_ID)')
    .option(
      '--redirect-uri <uris>',
      'allowed redirect URIs, comma-separated, default first (env SPOTIFY_REDIRECT_URI)',
    )
    .option('--accounts-url <url>', 'Accounts service base URL (env SPOTIFY_ACCOUNTS_URL)')
    .option('--host <host>', 'interface to listen on (env HOST, default 127.0.0.1)')
    .option('--port <port>', 'port, 0 = any free one (env PORT, default 3000)')
    .option('--base-path <path>', 'prefix of /swap and /refresh, e.g. /v1 (env BASE_PATH)')
    .option('--redis-url <url>', 'share rate limits through Redis (env REDIS_URL)')
    .option(
      '--cors-origins <origins>',
      'browser origins allowed, comma-separated (env CORS_ORIGINS)',
    )
    .option('--trust-proxy <hops>', 'false, true or number of proxies in front (env TRUST_PROXY)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL)')
    .option(
      '--rate-limit-ip <n>',
      'requests per window (RATE_LIMIT_WINDOW_S, 60 s) per client IP, 0 = off (env RATE_LIMIT_IP, default 120)',
    )
    .option(
      '--rate-limit-token <n>',
      'refreshes per window per refresh token, 0 = off (env RATE_LIMIT_TOKEN, default 10)',
    )
    .option(
      '--upstream-timeout-ms <ms>',
      'how long to wait for Spotify before answering 504 (env UPSTREAM_TIMEOUT_MS, default 10000)',
    )
    .action(async (flags: ServeFlags) => {
      await runServe(flags);
    });
}

async function runServe(flags: ServeFlags): Promise<void> {
  const result = await loadServeConfig(process.env, flags);
  if (!result.ok) {
    process.stderr.write(
      `spotify-session serve: the configuration cannot work:\n${result.problems
        .map((problem) => `  - ${problem}`)
        .join('\n')}\nSee docs/server.md ("Configuration").\n`,
    );
    process.exit(2);
  }
  const config = result.config;
  const logger = resolveLogger({ level: config.logLevel });
  // Loaded here, not at the top: Redis, Prometheus and the Node listener would
  // otherwise slow every other command (and --help) by about 0.2 s.
  const { closeOnSignals, serveTokenServer } = await import('../server/node.js');

  let clientId = config.clientId;
  let clientSecret = config.clientSecret;
  let redirectUris = config.redirectUris;
  let accountsUrl = config.accountsUrl;
  let keyring = config.keyring;
  let closeEmulator: (() => Promise<void>) | undefined;
  if (config.mode === 'embedded') {
    const emulator = createEmulator({ autoApprove: true });
    const listening = await emulator.listen({ port: 0, host: '127.0.0.1' });
    closeEmulator = () => listening.close();
    clientId = DEMO_APP.clientId;
    clientSecret = DEMO_APP.clientSecret;
    // App schemes first: that is what the iOS SDK uses.
    redirectUris = [...DEMO_APP.redirectUris].sort(
      (a, b) => Number(a.startsWith('http')) - Number(b.startsWith('http')),
    );
    accountsUrl = listening.url;
    keyring ??= await Keyring.parse(Keyring.generateKeyString());
  }

  let running: Awaited<ReturnType<typeof serveTokenServer>>;
  try {
    running = await serveTokenServer({
      clientId,
      clientSecret,
      redirectUris,
      keyring: keyring as Keyring,
      accountsUrl,
      host: config.host,
      port: config.port,
      basePath: config.basePath,
      ...(config.redisUrl === undefined ? {} : { redisUrl: config.redisUrl }),
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
      rateLimit: config.rateLimit,
      upstreamTimeout: config.upstreamTimeout,
      refreshTokenMaxAge: config.refreshTokenMaxAge,
      shutdownGracePeriod: config.shutdownGracePeriod,
      logger,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `spotify-session serve: ${config.host}:${config.port} is already in use (set PORT or --port)\n`
        : `spotify-session serve: could not start: ${(error as Error).message}\n`,
    );
    await closeEmulator?.();
    process.exit(1);
  }

  closeOnSignals({
    async close() {
      await running.close();
      await closeEmulator?.();
    },
  });

  if (config.mode === 'embedded') {
    process.stderr.write(
      embeddedBanner({
        serverUrl: `${running.url}${config.basePath}`,
        emulatorUrl: accountsUrl,
        clientId,
        redirectUri: redirectUris[0] as string,
      }),
    );
  }
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
     curl -s -X POST '${input.serverUrl}/refresh' -H 'Content-Type: application/x-www-form-urlencoded' --data-urlencode "refresh_token=$REFRESH_TOKEN"

`;
}
