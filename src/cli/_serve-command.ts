import type { Command } from 'commander';

/** Placeholder until the `serve` subcommand lands. */
export function registerServeCommand(program: Command): void {
  program.command('serve').action(() => {
    process.stderr.write('not implemented yet\n');
    process.exit(1);
  });
}
