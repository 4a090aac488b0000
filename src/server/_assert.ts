/**
 * The check of an option that is not a setting of the table (settings.ts checks those, with
 * `resolveSetting`), failing the same way: a `ConfigurationError` whose `option` is the name
 * the caller used.
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
