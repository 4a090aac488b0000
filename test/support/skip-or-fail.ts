/**
 * The one rule for a test that needs something the machine may lack (redis-server,
 * Chromium, Spotify's OpenAPI description): skipped with a loud message on a developer's
 * machine, a failure under `CI=true`, so CI can never pass by silently skipping it.
 */

/**
 * Says that `tests` are skipped because of `message` and returns `true`; under `CI=true`
 * throws instead, failing the suite.
 */
export function skipLoudly(tests: string, message: string): true {
  if (process.env.CI === 'true')
    throw new Error(`${message} ${tests} tests cannot be skipped under CI=true.`);
  process.stderr.write(`\n!!! SKIPPING ${tests.toUpperCase()} TESTS: ${message}\n\n`);
  return true;
}
