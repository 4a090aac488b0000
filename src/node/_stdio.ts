/**
 * Writing to stdout and stderr when nobody may be reading them. `serve | head -2`, a closed
 * terminal or a log shipper that stalls must never crash a process, hold a request or hold
 * its exit: output is best effort, the process's work is not.
 *
 * Why not pino's default destination: on `process.exit()` pino flushes it synchronously
 * (sonic-boom's `flushSync`), and sonic-boom 4 retries a failed write there forever, 100 ms
 * apart — EPIPE included, and EAGAIN from a reader that stopped reading. A log line still
 * queued when `serve` exits after SIGTERM with its stdout gone kept the process alive until
 * it was killed. Node's own stdout stream never blocks an exit (what the reader has not taken
 * by then is dropped), so the destination below writes through it.
 */
import type { Writable } from 'node:stream';

/** Unread log output kept in memory at most; lines past it are dropped (and counted). */
const MAX_UNWRITTEN_BYTES = 1024 * 1024;

const broken = new WeakSet<Writable>();

/**
 * Makes write errors on `stream` (EPIPE once the reader is gone, EIO from a closed terminal)
 * end its output instead of the process: without a listener, Node throws them as an
 * unhandled `'error'` event. Idempotent. Returns whether the stream still takes output.
 */
function tolerateClosedOutput(stream: Writable): () => boolean {
  if (!stream.listeners('error').includes(markBroken)) stream.on('error', markBroken);
  return () => !broken.has(stream) && !stream.destroyed;
}

function markBroken(this: Writable): void {
  broken.add(this);
}

/** Makes a closed stdout or stderr end that output, never the process (every CLI command). */
export function tolerateClosedStdio(): void {
  tolerateClosedOutput(process.stdout);
  tolerateClosedOutput(process.stderr);
}

/** What pino needs of a destination. */
export interface LineDestination {
  write(line: string): void;
}

let stdoutDestination: LineDestination | undefined;

/**
 * The log destination on `process.stdout`, one per process so lines from every logger keep
 * their order. Lines written in one turn of the event loop go out in one write; a reader that
 * is gone turns logging off (said once on stderr); a reader that is slow gets at most
 * {@link MAX_UNWRITTEN_BYTES} queued, then lines are dropped and the next line that gets
 * through says how many. At exit the queued lines are handed to the stream, which writes
 * what the reader can take without waiting.
 */
export function stdoutLogDestination(): LineDestination {
  stdoutDestination ??= createLineDestination(process.stdout, (reason) =>
    writeBestEffort(
      process.stderr,
      `spotify-session: stdout is closed (${reason}): log lines are dropped from now on\n`,
    ),
  );
  return stdoutDestination;
}

/** {@link stdoutLogDestination} on any stream (tests use it on a pipe they stall). */
export function createLineDestination(
  stream: Writable,
  onClosed: (reason: string) => void = () => {},
): LineDestination {
  const open = tolerateClosedOutput(stream);
  let queued = '';
  let scheduled = false;
  let dropped = 0;
  let closedSaid = false;
  const writeQueued = () => {
    scheduled = false;
    if (queued === '') return;
    const text = queued;
    queued = '';
    if (open()) stream.write(text);
  };
  stream.once('error', (error: NodeJS.ErrnoException) => {
    queued = '';
    if (!closedSaid) {
      closedSaid = true;
      onClosed(error.code ?? error.message);
    }
  });
  process.on('exit', writeQueued);
  return {
    write(line: string) {
      if (!open()) return;
      if (stream.writableLength + queued.length + line.length > MAX_UNWRITTEN_BYTES) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        queued += `${JSON.stringify({ level: 40, time: Date.now(), dropped, msg: 'log lines dropped: stdout is not read fast enough' })}\n`;
        dropped = 0;
      }
      queued += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(writeQueued);
      }
    },
  };
}

/** Writes `text` unless `stream` is known to be closed; a failure is ignored. */
export function writeBestEffort(stream: Writable, text: string): void {
  if (tolerateClosedOutput(stream)()) stream.write(text);
}
