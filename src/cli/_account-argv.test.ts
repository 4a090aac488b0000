import { Command, CommanderError, type Option } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AccountInvocation, FAST_COMMANDS, parseAccountArgv } from './_account-argv.js';
import { registerAccountCommands } from './_account-commands.js';

/**
 * What commander does with `argv`, configured as bin.ts configures it (the program-level
 * `-v, --version` and help, usage errors thrown instead of exiting): the invocation its
 * action would run, or `undefined` for anything else (an error, help, the version, another
 * command).
 */
async function commanderReads(argv: readonly string[]): Promise<AccountInvocation | undefined> {
  const program = new Command()
    .name('spotify-session')
    .version('0.0.0', '-v, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerAccountCommands(program);
  let read: AccountInvocation | undefined;
  const clean = (flags: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  for (const command of program.commands) {
    command.action((...args: unknown[]) => {
      const flags = clean(args.at(-2) as Record<string, unknown>);
      const name = command.name();
      if (name === 'api') {
        read = { command: 'api', method: args[0] as string, path: args[1] as string, flags };
      } else if (name === 'token' || name === 'whoami') read = { command: name, flags };
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return undefined;
    throw error;
  }
  return read;
}

describe('parseAccountArgv', () => {
  it.each<[string[], AccountInvocation]>([
    [['token'], { command: 'token', flags: {} }],
    [['token', '--json'], { command: 'token', flags: { json: true } }],
    [
      ['token', '--profile', 'work', '--client-id=abc', '--json'],
      { command: 'token', flags: { profile: 'work', clientId: 'abc', json: true } },
    ],
    [['token', '--profile='], { command: 'token', flags: { profile: '' } }],
    [
      ['whoami', '--json', '--profile=a=b'],
      { command: 'whoami', flags: { json: true, profile: 'a=b' } },
    ],
    [['api', 'GET', '/me'], { command: 'api', method: 'GET', path: '/me', flags: {} }],
    [
      ['api', '--query', 'q=x', 'GET', '/search', '--query=type=artist', '--data', '@-'],
      {
        command: 'api',
        method: 'GET',
        path: '/search',
        flags: { query: ['q=x', 'type=artist'], data: '@-' },
      },
    ],
    [
      ['api', 'post', '/me/playlists', '--data', '{"name":"x"}', '--data=@body.json'],
      { command: 'api', method: 'post', path: '/me/playlists', flags: { data: '@body.json' } },
    ],
  ])('%j is read as commander reads it', async (argv, expected) => {
    expect(parseAccountArgv(argv)).toEqual(expected);
    expect(await commanderReads(argv)).toEqual(expected);
  });

  it.each([
    [['token', '--help']],
    [['token', '-h']],
    [['token', '--version']],
    [['token', '-v']],
    [['token', '--profile', '-v']],
    [['token', '--profile']],
    [['token', '--json=yes']],
    [['token', '--jsn']],
    [['token', 'extra']],
    [['token', '--']],
    [['api', 'GET']],
    [['api', 'GET', '/me', 'extra']],
    [['api', 'GET', '-1']],
    [['api', 'GET', '/me', '--data', '-']],
    [['api', 'GET', '/me', '--query']],
    [['login']],
    [['help', 'token']],
    [['--profile', 'work', 'token']],
    [[]],
  ])('%j is left to commander', (argv) => {
    expect(parseAccountArgv(argv)).toBeUndefined();
  });

  it('knows the operands and options commander defines for token, api and whoami', () => {
    const program = new Command();
    registerAccountCommands(program);
    for (const [name, { operands, options }] of Object.entries(FAST_COMMANDS)) {
      const command = program.commands.find((candidate) => candidate.name() === name);
      if (command === undefined) throw new Error(`${name} is not a command any more`);
      expect(command.registeredArguments.map((argument) => argument.required)).toEqual(
        Array(operands).fill(true),
      );
      const defined = Object.fromEntries(
        (command.options as Option[]).map((option) => [
          option.long,
          { short: option.short, takesValue: option.required, variadic: option.variadic },
        ]),
      );
      const expected = Object.fromEntries(
        Object.entries(options).map(([flag, kind]) => [
          flag,
          { short: undefined, takesValue: kind !== 'flag', variadic: false },
        ]),
      );
      expect(defined).toEqual(expected);
    }
  });

  it('never reads a command line otherwise than commander (generated command lines)', async () => {
    const word = fc.constantFrom(
      'token',
      'api',
      'whoami',
      'help',
      'GET',
      'post',
      '/me',
      'work',
      '',
      'a=b',
      '=x',
      '@-',
      '@file.json',
      '-',
      '--',
      '-1',
      '-h',
      '--help',
      '-v',
      '-V',
      '--version',
      '--json',
      '--json=',
      '--profile',
      '--profile=',
      '--profile=-v',
      '--client-id',
      '--client-id=x',
      '--query',
      '--query=q=1',
      '--data',
      '--data={}',
      '--dat',
      '--=x',
      '-j',
      '--no-json',
    );
    const argv = fc.tuple(
      fc.constantFrom('token', 'api', 'whoami'),
      fc.array(word, { maxLength: 7 }),
    );
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(argv, async ([command, rest]) => {
        const line = [command, ...rest];
        const ours = parseAccountArgv(line);
        if (ours === undefined) return;
        fast++;
        expect(await commanderReads(line)).toEqual(ours);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach the fast path often enough for the comparison to mean something:
    // about one draw in nine does (340 of 3000, standard deviation 18), so 200 is no coin toss.
    expect(fast).toBeGreaterThan(200);
  });
});
