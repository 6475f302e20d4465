import { Writable } from 'node:stream';

/** How a write to a terminal that has gone away fails: EIO on a hung-up tty, EPIPE on a closed pipe. */
const GONE = new Set(['EIO', 'EPIPE', 'ERR_STREAM_DESTROYED']);

/**
 * Output that survives a closed terminal. When the terminal closes (a closed window, a dropped SSH session) the kernel
 * sends SIGHUP and every later write to it fails with EIO; unhandled, the first such write (a progress bar redraw, a log
 * line) killed `pnpm sweep` before it could detach, and its local workers lived on. From here on failed writes to stdout
 * and stderr are dropped (the process learns of the hangup from SIGHUP); other write errors are still thrown. Returns a
 * stream for the logger that writes to stdout until stdout fails (pino's own stdout writer throws on EIO).
 */
export function survivingTerminalOutput(): Writable {
  let gone = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!GONE.has(err.code ?? '')) throw err;
      gone = true;
    });
  }
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!gone) process.stdout.write(chunk);
      done();
    },
  });
}
