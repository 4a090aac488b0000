#!/usr/bin/env node
/**
 * The `spotify-session` command. It only parses arguments and calls the
 * package's public API; every subcommand lives in its own `_*-command.ts`.
 */
import { Command } from 'commander';
import { registerEmulatorCommand } from './_emulator-command.js';
import { registerKeysCommand } from './_keys-command.js';
import { registerServeCommand } from './_serve-command.js';

const program = new Command()
  .name('spotify-session')
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
