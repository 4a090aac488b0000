import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreLease } from './_store-lease.js';
import type { TokenStoreLock } from './store.js';

/** Locks that log what is done with them; `extend` answers `held` (or has none). */
function locks(options: { extend: boolean }) {
  const log: string[] = [];
  const state = { held: true, taken: 0 };
  const take = async (): Promise<TokenStoreLock> => {
    state.taken += 1;
    const name = `lock${state.taken}`;
    log.push(`take ${name}`);
    const lock: TokenStoreLock = {
      release: async () => {
        log.push(`release ${name}`);
      },
    };
    if (options.extend) {
      lock.extend = async (ttl) => {
        log.push(`extend ${name} ${ttl}`);
        return state.held;
      };
    }
    return lock;
  };
  return { take, log, state };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StoreLease', () => {
  it('renews the lock every third of its ttl while held, and stops once released', async () => {
    const { take, log } = locks({ extend: true });
    const lease = await StoreLease.take(3_000, take);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(log).toEqual([
      'take lock1',
      'extend lock1 3000',
      'extend lock1 3000',
      'extend lock1 3000',
    ]);
    await lease.release();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log.at(-1)).toBe('release lock1');
  });

  it('stops renewing a lost lock, and takes it again before the write', async () => {
    const { take, log, state } = locks({ extend: true });
    const lease = await StoreLease.take(3_000, take);
    state.held = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log).toEqual(['take lock1', 'extend lock1 3000']);
    state.held = true;
    await lease.confirm();
    expect(log.slice(2)).toEqual(['release lock1', 'take lock2']);
    await lease.confirm(); // held: renewed, not taken again
    expect(log.slice(4)).toEqual(['extend lock2 3000']);
    await lease.release();
  });

  it('without extend: trusts the lock for two thirds of its ttl, then takes it again', async () => {
    const { take, log } = locks({ extend: false });
    const lease = await StoreLease.take(3_000, take);
    await vi.advanceTimersByTimeAsync(1_900);
    await lease.confirm();
    expect(log).toEqual(['take lock1']);
    await vi.advanceTimersByTimeAsync(200);
    await lease.confirm();
    expect(log).toEqual(['take lock1', 'release lock1', 'take lock2']);
    await lease.release();
  });
});
