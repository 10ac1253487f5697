import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { exitWhenParentGone } from '../../src-main/engine/process/parent-watch.js';
import { parentChannel, type ParentPortLike } from '../../src-main/engine/process/utility-port.js';

// The child_process case runs for real in tests/integration/serve-faults.test.ts (kill -9 of
// serve). Electron's utility process cannot run here (no Electron binary): its parentPort is
// stood in for by an EventEmitter, as in shell-utility-channel.test.ts.

function fakeParentPort(): ParentPortLike & EventEmitter {
  const port = new EventEmitter() as ParentPortLike & EventEmitter;
  port.postMessage = () => undefined;
  return port;
}

describe('the engine worker leaves with its host', () => {
  it('exits when the utility process parentPort closes', () => {
    const port = fakeParentPort();
    const channel = parentChannel({ parentPort: port, on: () => undefined });
    if (!channel) throw new Error('expected a channel');
    let exits = 0;
    const stop = exitWhenParentGone(channel, { exit: () => (exits += 1), ppid: () => 42 });
    expect(exits).toBe(0);
    port.emit('close');
    port.emit('close');
    expect(exits).toBe(1);
    stop();
  });

  it('exits when the IPC channel of a forked child disconnects', () => {
    const proc = new EventEmitter() as EventEmitter & { send: () => boolean };
    proc.send = () => true;
    const channel = parentChannel(proc);
    expect(channel?.kind).toBe('fork');
    let exits = 0;
    exitWhenParentGone(channel as NonNullable<typeof channel>, {
      exit: () => (exits += 1),
      ppid: () => 42,
    });
    proc.emit('disconnect');
    expect(exits).toBe(1);
  });

  it('exits when the parent process is gone although the channel never said so', async () => {
    let ppid = 42;
    const exited = new Promise<void>((resolve) => {
      exitWhenParentGone(
        { onClose: () => undefined },
        { exit: resolve, ppid: () => ppid, isAlive: () => true, intervalMs: 5 },
      );
    });
    // Re-parented to init (or a subreaper): the pid of the parent changes.
    ppid = 1;
    await exited;
    let windowsExit = false;
    await new Promise<void>((resolve) => {
      exitWhenParentGone(
        { onClose: () => undefined },
        {
          exit: () => {
            windowsExit = true;
            resolve();
          },
          ppid: () => 42,
          isAlive: (pid) => pid !== 42,
          intervalMs: 5,
        },
      );
    });
    expect(windowsExit).toBe(true);
  });
});
