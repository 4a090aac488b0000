import { afterEach, describe, expect, it } from 'vitest';
import { createDeadline, parseRetryAfter, readLimitedText, untilSignal } from './_transport.js';

const NOW = Date.UTC(2026, 10, 22, 4, 0, 0);

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30);
    expect(parseRetryAfter('86400', NOW)).toBe(86_400);
  });

  it('reads an HTTP-date relative to the clock, never negative', () => {
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90);
    expect(parseRetryAfter(new Date(NOW + 1_500).toUTCString(), NOW)).toBe(1);
    expect(parseRetryAfter(new Date(NOW - 60_000).toUTCString(), NOW)).toBe(0);
  });

  it('gives undefined for absent or unreadable values', () => {
    for (const value of [null, '', 'soon', '-5', '1.5', '2026-11-22', 'Sun, 99 Foo GMT']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});

describe('readLimitedText', () => {
  it('reads up to the limit and refuses more', async () => {
    await expect(readLimitedText(new Response('hello'), 5)).resolves.toBe('hello');
    await expect(readLimitedText(new Response('hello!'), 5)).resolves.toBeUndefined();
    await expect(readLimitedText(new Response(null))).resolves.toBe('');
  });
});

describe('createDeadline', () => {
  const any = AbortSignal.any;
  const timeout = AbortSignal.timeout;
  afterEach(() => {
    AbortSignal.any = any;
    AbortSignal.timeout = timeout;
  });

  for (const fallback of [false, true]) {
    describe(
      fallback ? 'without AbortSignal.any / AbortSignal.timeout' : 'with the built-ins',
      () => {
        const setup = () => {
          if (fallback) {
            // Older browsers and runtimes lack both: the fallbacks must behave the same.
            (AbortSignal as { any?: unknown }).any = undefined;
            (AbortSignal as { timeout?: unknown }).timeout = undefined;
          }
        };

        it('aborts on the timeout and says so', async () => {
          setup();
          const deadline = createDeadline(10, undefined);
          await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve));
          expect(deadline.timedOut()).toBe(true);
          deadline.dispose();
        });

        it('aborts with the caller, which is not a timeout', () => {
          setup();
          const controller = new AbortController();
          const deadline = createDeadline(10_000, controller.signal);
          expect(deadline.signal.aborted).toBe(false);
          controller.abort(new Error('stop'));
          expect(deadline.signal.aborted).toBe(true);
          expect((deadline.signal.reason as Error).message).toBe('stop');
          expect(deadline.timedOut()).toBe(false);
          deadline.dispose();
        });

        it('is aborted at once for an already-aborted caller signal', () => {
          setup();
          const deadline = createDeadline(10_000, AbortSignal.abort());
          expect(deadline.signal.aborted).toBe(true);
          expect(deadline.timedOut()).toBe(false);
          deadline.dispose();
        });

        it('times out with a caller signal present', async () => {
          setup();
          const controller = new AbortController();
          const deadline = createDeadline(10, controller.signal);
          await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve));
          expect(deadline.timedOut()).toBe(true);
          deadline.dispose();
        });
      },
    );
  }
});

describe('untilSignal', () => {
  it('rejects at once for an aborted signal, and still handles the late rejection', async () => {
    let fail: (error: unknown) => void = () => {};
    const work = new Promise((_resolve, reject) => {
      fail = reject;
    });
    await expect(untilSignal(work, AbortSignal.abort('gone'))).rejects.toBe('gone');
    // Vitest fails the run on an unhandled rejection: this one must be handled.
    fail(new Error('late'));
    await new Promise((resolve) => setTimeout(resolve, 0));
  });

  it('maps the abort with onAbort and passes the outcome through otherwise', async () => {
    const controller = new AbortController();
    const pending = untilSignal(new Promise(() => {}), controller.signal, () => 'mapped');
    controller.abort();
    await expect(pending).rejects.toBe('mapped');
    await expect(untilSignal(Promise.resolve(1), new AbortController().signal)).resolves.toBe(1);
    await expect(untilSignal(Promise.reject(new Error('x')), undefined)).rejects.toThrow('x');
  });
});
