/**
 * The one check every option resolver of the server uses (`createTokenServer`,
 * `serveTokenServer`, the env/flag loader), so a bad option always fails the same way:
 * a `ConfigurationError` whose `option` is the name the caller actually used
 * (`encryptionKeys` in code, `TOKEN_ENCRYPTION_KEYS` in the environment).
 */
import { ConfigurationError } from '../core/errors/index.js';

/**
 * Throws `ConfigurationError(option, message)` unless `condition` holds. The message
 * names the option and says what is expected; it never repeats a secret value.
 */
export function assertOption(
  condition: unknown,
  option: string,
  message: string,
): asserts condition {
  if (!condition) throw new ConfigurationError(option, message);
}
