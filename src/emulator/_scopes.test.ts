import { expect, test } from 'vitest';
import { OPEN_ACCESS_SCOPES, parseScopes, STANDARD_SCOPES } from './_scopes.js';

test('Spotify lists 19 standard scopes and 5 Open Access ones (+3 old names)', () => {
  expect(STANDARD_SCOPES).toHaveLength(19);
  expect(OPEN_ACCESS_SCOPES).toHaveLength(8);
});

test('parseScopes splits, keeps order, removes duplicates', () => {
  expect(parseScopes(undefined)).toEqual([]);
  expect(parseScopes('')).toEqual([]);
  expect(parseScopes('  streaming user-read-email streaming ')).toEqual([
    'streaming',
    'user-read-email',
  ]);
  expect(parseScopes('user-soa-link soa-create-partner user-create-partner')).toEqual([
    'user-soa-link',
    'soa-create-partner',
    'user-create-partner',
  ]);
});

test('an unknown scope, or a comma-separated list, is refused', () => {
  expect(parseScopes('user-read-email user-read-mind')).toBeUndefined();
  expect(parseScopes('user-read-email,streaming')).toBeUndefined();
  expect(parseScopes('USER-READ-EMAIL')).toBeUndefined();
});
