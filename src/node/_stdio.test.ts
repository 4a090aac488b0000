import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLineDestination } from './_stdio.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A stream whose reader takes nothing (every write stays pending) until `release()`. */
function stalledStream() {
  const written: string[] = [];
  const pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString());
      pending.push(callback);
    },
  });
  const release = () => {
    for (const callback of pending.splice(0)) callback();
  };
  return { stream, written, release };
}

describe('createLineDestination', () => {
  it('writes the lines of one turn in one write', async () => {
    const { stream, written, release } = stalledStream();
    const destination = createLineDestination(stream);
    destination.write('a\n');
    destination.write('b\n');
    expect(written).toEqual([]);
    await turn();
    release();
    expect(written).toEqual(['a\nb\n']);
  });

  it('drops lines past 1 MiB unread, then says how many were dropped', async () => {
    const { stream, written, release } = stalledStream();
    const destination = createLineDestination(stream);
    const line = `${'x'.repeat(1023)}\n`;
    for (let index = 0; index < 1024 + 10; index++) destination.write(line);
    await turn();
    expect(stream.writableLength).toBeLessThanOrEqual(1024 * 1024);
    release();
    await turn();
    destination.write('after\n');
    await turn();
    release();
    const notice = JSON.parse((written.at(-1) ?? '').split('\n')[0] ?? '') as {
      dropped: number;
      msg: string;
    };
    expect(notice.dropped).toBe(10);
    expect(notice.msg).toMatch(/dropped/);
    expect(written.at(-1)).toMatch(/\nafter\n$/);
  });

  it('stops writing once the stream failed (EPIPE), and says so once', async () => {
    const reasons: string[] = [];
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        writes++;
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const destination = createLineDestination(stream, (reason) => reasons.push(reason));
    destination.write('first\n');
    await turn();
    await turn();
    destination.write('second\n');
    destination.write('third\n');
    await turn();
    expect(writes).toBe(1);
    expect(reasons).toEqual(['EPIPE']);
  });
});
