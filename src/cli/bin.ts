#!/usr/bin/env node
/**
 * The `spotify-session` command. It only parses arguments and calls the
 * package's public API; every subcommand lives in its own `_*-command.ts`.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerEmulatorCommand } from './_emulator-command.js';
import { registerKeysCommand } from './_keys-command.js';
import { registerServeCommand } from './_serve-command.js';

// dist/cli/bin.js → the package root's package.json, in the repository and when installed.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command()
  .name('spotify-session')
  .version(version, '-v, --version', 'print the version')
  .description('Spotify authorization toolkit: token swap server, local Spotify emulator, keys.')
  .showHelpAfterError()
  .exitOverride((error) => {
    // Usage errors exit 2 (like a bad configuration); --help and --version exit 0.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

registerServeCommand(program);
registerEmulatorCommand(program);
registerKeysCommand(program);

await program.parseAsync(process.argv);
