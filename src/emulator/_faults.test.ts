import { expect, test } from 'vitest';
import { FaultTable, InvalidFaultError, parseFault } from './_faults.js';

test('parseFault keeps only the given fields and refuses bad ones', () => {
  expect(parseFault({ endpoint: '*', type: 'drop', count: 2 })).toEqual({
    endpoint: '*',
    type: 'drop',
    count: 2,
  });
  expect(() => parseFault({ endpoint: '*', type: 'status', status: 404 })).toThrow(
    InvalidFaultError,
  );
  expect(() => parseFault({ endpoint: '*', type: 'drop', retryAfter: 3 })).toThrow(
    /retryAfter is only for status 429 or 503/,
  );
  expect(() => parseFault({ endpoint: '*', type: 'drop', status: 500 })).toThrow(
    /status is only for a status fault/,
  );
  expect(() => parseFault(null)).toThrow(InvalidFaultError);
});

test('latency adds up; the first status/drop fault answers and only it is spent', () => {
  const table = new FaultTable();
  table.add({ endpoint: '*', type: 'latency', latencyMs: 10 });
  table.add({ endpoint: '/api/token', type: 'latency', latencyMs: 5, count: 1 });
  table.add({ endpoint: '/api/token', type: 'status', status: 503, count: 1 });
  table.add({ endpoint: '*', type: 'drop', count: 1 });

  const first = table.decide('/api/token');
  expect(first.latencyMs).toBe(15);
  expect(first.terminal).toMatchObject({ type: 'status', status: 503 });

  const second = table.decide('/api/token');
  expect(second.latencyMs).toBe(10);
  expect(second.terminal).toMatchObject({ type: 'drop' });

  const third = table.decide('/api/token');
  expect(third).toEqual({ latencyMs: 10, terminal: undefined });
  expect(table.list()).toHaveLength(1);
});

test('/authorize faults cover the consent form too, and nothing else', () => {
  const table = new FaultTable();
  table.add({ endpoint: '/authorize', type: 'drop' });
  expect(table.decide('/authorize').terminal).toBeDefined();
  expect(table.decide('/authorize/decision').terminal).toBeDefined();
  expect(table.decide('/authorizer').terminal).toBeUndefined();
  expect(table.decide('/api/token').terminal).toBeUndefined();
});

test('rate draws from a seeded PRNG: same seed, same hits', () => {
  const hits = (seed: number) => {
    const table = new FaultTable();
    table.add({ endpoint: '*', type: 'drop', rate: 0.3, seed });
    return Array.from({ length: 200 }, () => table.decide('/api/token').terminal !== undefined);
  };
  const run = hits(7);
  expect(hits(7)).toEqual(run);
  expect(hits(8)).not.toEqual(run);
  const fraction = run.filter(Boolean).length / run.length;
  expect(fraction).toBeGreaterThan(0.2);
  expect(fraction).toBeLessThan(0.4);
});
