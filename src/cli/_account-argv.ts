/**
 * The command lines of `token`, `api` and `whoami`, the commands people run all day (often
 * inside `$(…)`), read without commander: building the commander tree costs more start-up
 * time than the command itself (docs/benchmarks.md). Only plain forms are taken, read exactly
 * as commander reads them; anything else — `--help`, a short or unknown option, a missing
 * value or one that starts with "-", `--`, a wrong number of arguments — is left to commander,
 * which parses it, or reports the usage error, as it always did. `_account-argv.test.ts`
 * checks both against each other on generated command lines, and this table against the
 * commands' commander definitions (`_account-commands.ts`). The variables the account
 * commands read are listed here too: `--help` shows them and every account command warns of
 * near misses, whichever parser read its command line.
 */

/** The variables `login`, `token`, `api`, `whoami` and `logout` read, for --help and typos. */
export const ACCOUNT_VARIABLES: ReadonlyArray<readonly [name: string, meaning: string]> = [
  ['SPOTIFY_CLIENT_ID', "your app's client ID (login saves it in the profile)"],
  [
    'SPOTIFY_ACCOUNTS_URL',
    "Accounts service base URL (default https://accounts.spotify.com; the emulator's URL in tests)",
  ],
  ['SPOTIFY_API_URL', 'Web API base URL (default https://api.spotify.com/v1)'],
  ['SPOTIFY_PROFILE', 'profile to use when --profile is not given (default "default")'],
  [
    'XDG_CONFIG_HOME',
    'where profiles live: $XDG_CONFIG_HOME/spotify-session (else ~/.config/spotify-session)',
  ],
];

/** How an option takes its value: none (`--json`), one (`--profile work`), or one per use. */
type OptionKind = 'flag' | 'value' | 'repeatable';

/** Operands and long options of each command read here, as `_account-commands.ts` defines them. */
export const FAST_COMMANDS = {
  token: {
    operands: 0,
    options: { '--profile': 'value', '--client-id': 'value', '--json': 'flag' },
  },
  api: {
    operands: 2,
    options: {
      '--query': 'repeatable',
      '--data': 'value',
      '--profile': 'value',
      '--client-id': 'value',
    },
  },
  whoami: {
    operands: 0,
    options: { '--profile': 'value', '--client-id': 'value', '--json': 'flag' },
  },
} as const satisfies Record<
  string,
  { operands: number; options: Readonly<Record<`--${string}`, OptionKind>> }
>;

/** The options' values, named as commander names them (`--client-id` → `clientId`). */
export interface AccountFlags {
  profile?: string;
  clientId?: string;
  json?: true;
  query?: string[];
  data?: string;
}

/** A command line of `token`, `api` or `whoami`, as commander would hand it to the action. */
export type AccountInvocation =
  | { command: 'token' | 'whoami'; flags: AccountFlags }
  | { command: 'api'; method: string; path: string; flags: AccountFlags };

/** `--client-id` → `clientId`, commander's attribute name. */
function attributeName(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * `argv` (without `node` and the script) as a `token`, `api` or `whoami` invocation, or
 * `undefined` for anything commander should handle.
 */
export function parseAccountArgv(argv: readonly string[]): AccountInvocation | undefined {
  const [command, ...rest] = argv;
  if (command !== 'token' && command !== 'api' && command !== 'whoami') return undefined;
  const { operands: wanted, options } = FAST_COMMANDS[command];
  const kinds: Readonly<Record<string, OptionKind>> = options;
  const operands: string[] = [];
  const flags: Record<string, string | string[] | true> = {};
  for (let index = 0; index < rest.length; index++) {
    const argument = rest[index] as string;
    if (!argument.startsWith('-')) {
      operands.push(argument);
      continue;
    }
    // `--name=value`: commander splits at the first "=" after the name.
    const equals = argument.startsWith('--') ? argument.indexOf('=') : -1;
    const flag = equals > 2 ? argument.slice(0, equals) : argument;
    const kind = kinds[flag];
    if (kind === undefined) return undefined;
    let value: string | undefined;
    if (equals > 2) {
      if (kind === 'flag') return undefined;
      value = argument.slice(equals + 1);
    } else if (kind !== 'flag') {
      value = rest[++index];
      // Commander would take "-…" as the value; the top-level `-h`/`-v` would not: leave it.
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    const name = attributeName(flag);
    if (value === undefined) flags[name] = true;
    else if (kind === 'repeatable') flags[name] = [...((flags[name] as string[]) ?? []), value];
    else flags[name] = value;
  }
  if (operands.length !== wanted) return undefined;
  if (command === 'api') {
    const [method, path] = operands as [string, string];
    return { command, method, path, flags };
  }
  return { command, flags };
}
