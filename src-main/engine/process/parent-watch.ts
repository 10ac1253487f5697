import type { ParentChannel } from './utility-port.js';

/** How often the backstop looks for the parent process. */
export const PARENT_CHECK_EVERY_MS = 500;

/**
 * Ends this process at once. Not process.exit(): that joins libuv's thread pool, where a
 * generation may wait for JavaScript to take its next token, so the exit itself would hang for
 * ever (seen: an orphaned engine blocked in uv__threadpool_cleanup). Nothing needs cleaning up:
 * the OS frees the model's memory, and the host that would want an answer is gone.
 */
export function exitNow(): void {
  process.kill(process.pid, 'SIGKILL');
}

export interface ParentWatchOptions {
  /** Default: exitNow(). */
  exit?: () => void;
  /** The parent's pid now (default process.ppid) and how to read it later. */
  ppid?: () => number;
  /** Whether a pid is alive (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  intervalMs?: number;
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends the engine process when its host goes away, so a killed or crashed app never leaves a
 * model loaded in an orphan: at once when the IPC channel closes (a forked child's 'disconnect',
 * a utility process's parentPort 'close'), and as a backstop when the parent process is gone
 * (on POSIX an orphan is re-parented, so its ppid changes; elsewhere the old pid stops existing).
 * Exits without cleanup on purpose (see exitNow).
 */
export function exitWhenParentGone(
  channel: Pick<ParentChannel, 'onClose'>,
  options: ParentWatchOptions = {},
): () => void {
  const exit = options.exit ?? exitNow;
  const readPpid = options.ppid ?? (() => process.ppid);
  const isAlive = options.isAlive ?? signalZero;
  const parent = readPpid();
  let done = false;
  const leave = (): void => {
    if (done) return;
    done = true;
    clearInterval(timer);
    exit();
  };
  channel.onClose(leave);
  const timer = setInterval(() => {
    if (readPpid() !== parent || !isAlive(parent)) leave();
  }, options.intervalMs ?? PARENT_CHECK_EVERY_MS);
  // The watch alone never keeps the process running.
  timer.unref();
  return () => {
    done = true;
    clearInterval(timer);
  };
}
