#!/usr/bin/env node
/**
 * The `spotify-session` command. It only parses arguments and calls the
 * package's public API; every subcommand lives in its own `_*-command.ts`.
 */
import type { Command } from 'commander';
import { tolerateClosedStdio } from '../node/internal.js';
import { parseAccountArgv } from './_account-argv.js';
import { EXIT } from './_exit-codes.js';

// `spotify-session … | head` or a closed terminal ends the output, never the command.
tolerateClosedStdio();
// Node 22.1 and later keep the compiled code of the modules loaded from here on (in Node's own
// cache in the temporary directory), so the next start skips compiling them. Node 20 has no
// such cache, and does not load node:module for nothing.
if (Number(process.versions.node.split('.')[0]) >= 22) {
  ((await import('node:module')) as { enableCompileCache?: () => unknown }).enableCompileCache?.();
}

/**
 * Every command, with what the top-level `--help` shows. Only the module of the command being
 * run is loaded (the server's defaults pull in pino and valibot, the emulator Hono), so
 * `--help` starts as fast as commander allows.
 */
const COMMANDS: ReadonlyArray<{
  names: readonly string[];
  description: string;
  register: () => Promise<(program: Command) => void>;
}> = [
  {
    names: ['serve'],
    description: 'run the token swap and refresh server for the Spotify mobile SDKs',
    register: async () => (await import('./_serve-command.js')).registerServeCommand,
  },
  {
    names: ['emulator'],
    description: 'run a local Spotify (Accounts service and Web API) for development and tests',
    register: async () => (await import('./_emulator-command.js')).registerEmulatorCommand,
  },
  {
    names: ['keys'],
    description: 'create and check the TOKEN_ENCRYPTION_KEYS keys of the token swap server',
    register: async () => (await import('./_keys-command.js')).registerKeysCommand,
  },
  {
    names: ['login', 'token', 'api', 'whoami', 'logout'],
    description: '',
    register: async () => (await import('./_account-commands.js')).registerAccountCommands,
  },
];

// `token`, `api` and `whoami`, the everyday commands, in their plain forms: no commander tree
// (src/cli/_account-argv.ts reads them exactly as commander would). Everything else — help,
// usage errors, the other commands — goes to commander.
const everyday = parseAccountArgv(process.argv.slice(2));
if (everyday === undefined) await parseWithCommander();
else await (await import('./_account-run.js')).runAccountCommand(everyday);

async function parseWithCommander(): Promise<void> {
  const { Command } = await import('commander');
  const { createRequire } = await import('node:module');
  // dist/cli/bin.js → the package root's package.json, in the repository and when installed.
  const { version } = createRequire(import.meta.url)('../../package.json') as {
    version: string;
  };

  const program = new Command()
    .name('spotify-session')
    .version(version, '-v, --version', 'print the version')
    .description(
      'Spotify authorization toolkit: log in and get tokens, call the Web API, run the token swap server or a local Spotify emulator.',
    )
    .exitOverride((error) => {
      // Usage errors exit 2 (like a bad configuration); --help and --version exit 0.
      // docs/cli.md has the whole table (src/cli/_exit-codes.ts).
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    });

  const positionals = process.argv.slice(2).filter((argument) => !argument.startsWith('-'));
  // `spotify-session help serve` is `spotify-session serve --help`.
  const invoked = positionals[0] === 'help' ? positionals[1] : positionals[0];
  const chosen = COMMANDS.find((entry) => invoked !== undefined && entry.names.includes(invoked));
  if (chosen === undefined) {
    // --help, --version or an unknown command: all commands, none of their modules. The account
    // commands are light, so they describe themselves.
    for (const entry of COMMANDS) {
      if (entry.description === '') (await entry.register())(program);
      else program.command(entry.names[0] as string).description(entry.description);
    }
  } else {
    (await chosen.register())(program);
  }

  // A usage error is its one line and where the help is, not the whole help: the line that
  // matters would scroll away.
  program.showHelpAfterError("Run 'spotify-session --help' for usage.");
  for (const command of program.commands) {
    command.showHelpAfterError(`Run 'spotify-session ${command.name()} --help' for usage.`);
  }

  await program.parseAsync(process.argv);
}
