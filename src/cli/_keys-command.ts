import type { Command } from 'commander';
import { ConfigurationError } from '../core/errors/index.js';
import { Keyring } from '../server/keyring.js';
import { EXIT } from './_exit-codes.js';

const KEYS_VARIABLE = 'TOKEN_ENCRYPTION_KEYS';

/**
 * `spotify-session keys generate` and `spotify-session keys check`: create and validate the
 * keys the token swap server seals refresh tokens with. Secrets go to stdout only when
 * generated; nothing here ever prints an existing key.
 */
export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description(`create and check the ${KEYS_VARIABLE} keys of the token swap server`)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 2 missing or invalid keys (keys check).

Examples:
  $ export ${KEYS_VARIABLE}="$(spotify-session keys generate)"
  $ ${KEYS_VARIABLE}="$(spotify-session keys generate),$${KEYS_VARIABLE}"   # rotate: new key first
  $ spotify-session keys check`,
    );

  keys
    .command('generate')
    .description('print a new "kid:secret" key (stdout); a rotation hint goes to stderr')
    .action(() => {
      const line = Keyring.generateKeyString();
      process.stdout.write(`${line}\n`);
      const kid = line.slice(0, line.indexOf(':'));
      process.stderr.write(
        `New key "${kid}". To rotate, put it FIRST in ${KEYS_VARIABLE} and keep the old keys after it:\n` +
          `  ${KEYS_VARIABLE}="<new key>,<current keys>"\n` +
          'The first key seals new tokens; every key still unseals. Remove an old key only after\n' +
          'the refresh tokens it sealed have expired (their maximum age, 180 days by default).\n',
      );
    });

  keys
    .command('check')
    .description(`validate ${KEYS_VARIABLE} from the environment without printing any secret`)
    .action(async () => {
      const value = process.env[KEYS_VARIABLE];
      if (value === undefined) {
        process.stderr.write(
          `error: ${KEYS_VARIABLE} is not set (create a key with \`spotify-session keys generate\`)\n`,
        );
        process.exit(EXIT.usage);
      }
      let keyring: Keyring;
      try {
        keyring = await Keyring.parse(value);
        // Proves the keys work with this runtime's WebCrypto, not just that they parse.
        const probe = await keyring.seal('probe', { clientId: 'keys-check' });
        await keyring.unseal(probe, { clientId: 'keys-check', maxAge: 60 });
      } catch (error) {
        if (error instanceof ConfigurationError) {
          process.stderr.write(`error: ${error.message}\n`);
          process.exit(EXIT.usage);
        }
        throw error;
      }
      const [active, ...others] = keyring.keyIds;
      process.stdout.write(
        `${KEYS_VARIABLE} is valid: ${keyring.keyIds.length} key(s); seals with "${active}"` +
          (others.length > 0 ? `; also unseals ${others.map((id) => `"${id}"`).join(', ')}` : '') +
          '\n',
      );
    });
}
