import type { Command } from 'commander';

/** Placeholder until the `emulator` subcommand lands. */
export function registerEmulatorCommand(program: Command): void {
  program.command('emulator').action(() => {
    process.stderr.write('not implemented yet\n');
    process.exit(1);
  });
}
