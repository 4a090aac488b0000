import type { Command } from 'commander';

/** Placeholder until the `keys` subcommand lands. */
export function registerKeysCommand(program: Command): void {
  program.command('keys').action(() => {
    process.stderr.write('not implemented yet\n');
    process.exit(1);
  });
}
