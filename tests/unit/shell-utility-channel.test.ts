import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { serveRpc } from '../../src-main/engine/process/serve-rpc.js';
import { SupervisedWorker } from '../../src-main/engine/process/supervised-worker.js';
import { parentChannel, type ParentPortLike } from '../../src-main/engine/process/utility-port.js';
import {
  utilityChannel,
  workerEnvironment,
  type UtilityProcessLike,
} from '../../src-main/shell/utility-channel.js';

type Methods = {
  echo: { params: { text: string }; result: string; event: never };
  hang: { params: Record<string, never>; result: null; event: never };
};

/**
 * An in-memory stand-in for Electron's UtilityProcess (no mock of the 'electron' module): the host
 * side gets 'message'/'exit'/'error' events, the worker side a parentPort whose messages arrive
 * wrapped in `{data}` as Electron's MessageEvent does.
 */
class FakeUtilityProcess extends EventEmitter implements UtilityProcessLike {
  readonly parentPort: ParentPortLike & EventEmitter;
  killed = false;

  constructor() {
    super();
    const port = new EventEmitter() as ParentPortLike & EventEmitter;
    port.postMessage = (message: unknown) =>
      queueMicrotask(() => this.emit('message', structuredClone(message)));
    this.parentPort = port;
  }

  postMessage(message: unknown): void {
    queueMicrotask(() => this.parentPort.emit('message', { data: structuredClone(message) }));
  }

  kill(): boolean {
    this.killed = true;
    queueMicrotask(() => this.emit('exit', 0));
    return true;
  }
}

function launcher(started: FakeUtilityProcess[]) {
  return () => {
    const child = new FakeUtilityProcess();
    started.push(child);
    // The worker side, as src-main/engine/worker.ts starts it inside a utility process.
    const channel = parentChannel({ parentPort: child.parentPort, on: () => undefined });
    if (channel?.kind !== 'utility') throw new Error('expected the utility parent port');
    serveRpc<Methods>(channel, {
      echo: ({ text }) => `echo ${text}`,
      hang: () => new Promise<null>(() => undefined),
    });
    return utilityChannel(child);
  };
}

describe('engine as a utility process (shared supervision)', () => {
  it('answers calls through the utility parent port', async () => {
    const started: FakeUtilityProcess[] = [];
    const worker = new SupervisedWorker<Methods>(launcher(started));
    expect(await worker.call('echo', { text: 'hi' })).toBe('echo hi');
    worker.dispose();
    expect(started[0]?.killed).toBe(true);
  });

  it('rejects pending calls with ENGINE_CRASHED when the process exits, then restarts', async () => {
    const started: FakeUtilityProcess[] = [];
    const worker = new SupervisedWorker<Methods>(launcher(started), { backoffBaseMs: 1 });
    const crashes: unknown[] = [];
    worker.onCrash((exit) => crashes.push(exit));
    await worker.call('echo', { text: 'warm' });
    const pending = worker.call('hang', {});
    await new Promise((resolve) => setTimeout(resolve, 5));
    started[0]?.emit('exit', 134);
    await expect(pending).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
    expect(crashes).toEqual([{ code: 134, signal: null }]);
    expect(await worker.call('echo', { text: 'again' })).toBe('echo again');
    expect(started).toHaveLength(2);
    expect(worker.generation).toBe(2);
    worker.dispose();
  });

  it('counts a V8 fatal error as a crash once, even with the exit that follows', async () => {
    const started: FakeUtilityProcess[] = [];
    const worker = new SupervisedWorker<Methods>(launcher(started));
    const crashes: unknown[] = [];
    worker.onCrash((exit) => crashes.push(exit));
    const pending = worker.call('hang', {});
    await new Promise((resolve) => setTimeout(resolve, 5));
    started[0]?.emit('error', 'FatalError', 'v8', 'report');
    started[0]?.emit('exit', 133);
    await expect(pending).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
    expect(crashes).toEqual([{ code: null, signal: 'FatalError' }]);
    worker.dispose();
  });
});

describe('the worker finds its parent channel', () => {
  it('prefers a utility parent port, else the forked IPC channel, else none', () => {
    const sent: unknown[] = [];
    const forked = parentChannel({
      send: (message: unknown) => sent.push(message) > 0,
      on: () => undefined,
    });
    expect(forked?.kind).toBe('fork');
    forked?.send({ kind: 'ready' });
    expect(sent).toEqual([{ kind: 'ready' }]);
    expect(parentChannel({ on: () => undefined })).toBeUndefined();
    expect(
      parentChannel({ parentPort: {} as ParentPortLike, on: () => undefined }),
    ).toBeUndefined();
  });

  it('gives the engine a clean environment', () => {
    expect(
      workerEnvironment({
        PATH: '/bin',
        NODE_OPTIONS: '--inspect',
        ELECTRON_RUN_AS_NODE: '1',
        X: undefined,
      }),
    ).toEqual({ PATH: '/bin', UV_THREADPOOL_SIZE: '1' });
  });
});
