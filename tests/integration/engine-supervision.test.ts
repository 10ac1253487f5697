import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { forkLauncher } from '../../src-main/engine/process/fork-launcher.js';
import { SupervisedWorker } from '../../src-main/engine/process/supervised-worker.js';
import type { TestMethods } from '../fixtures/rpc-test-methods.js';

// Supervision is exercised with a real child process and real IPC; the worker's methods are a
// test fixture (the crash of the real engine mid-answer is tested with the engine itself).
const workerPath = fileURLToPath(new URL('../fixtures/rpc-test-worker.ts', import.meta.url));

function startWorker(options = {}): SupervisedWorker<TestMethods> {
  return new SupervisedWorker<TestMethods>(
    forkLauncher({ modulePath: workerPath, execArgv: ['--import', 'tsx'] }),
    options,
  );
}

describe('the supervised engine process (test worker)', () => {
  let worker: SupervisedWorker<TestMethods> | undefined;
  afterEach(() => worker?.dispose());

  it('answers calls and streams events in order', async () => {
    worker = startWorker();
    expect(await worker.call('echo', { text: 'héllo' })).toBe('héllo');
    const seen: number[] = [];
    const result = await worker.call(
      'count',
      { upTo: 5, delayMs: 1 },
      { onEvent: (e) => seen.push(e.n) },
    );
    expect(result).toEqual({ sent: 5, stopped: false });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('stops a streaming call through an AbortSignal and keeps what was sent', async () => {
    worker = startWorker();
    const controller = new AbortController();
    const seen: number[] = [];
    const result = await worker.call(
      'count',
      { upTo: 10_000, delayMs: 5 },
      {
        signal: controller.signal,
        onEvent: (e) => {
          seen.push(e.n);
          if (e.n === 3) controller.abort();
        },
      },
    );
    expect(result.stopped).toBe(true);
    expect(result.sent).toBeLessThan(50);
    expect(seen.slice(0, 4)).toEqual([0, 1, 2, 3]);
  });

  it('keeps the error code of a failed call', async () => {
    worker = startWorker();
    await expect(worker.call('fail', {})).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await worker.call('echo', { text: 'still here' })).toBe('still here');
  });

  it('rejects pending calls with ENGINE_CRASHED within a second of an abort() and restarts', async () => {
    worker = startWorker();
    const firstPid = await worker.call('pid', {});
    const longCall = worker.call('count', { upTo: 100_000, delayMs: 10 });
    const started = Date.now();
    const crash = worker.call('crash', {});
    await expect(crash).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
    await expect(longCall).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(worker.running).toBe(false);

    const secondPid = await worker.call('pid', {});
    expect(secondPid).not.toBe(firstPid);
    expect(worker.generation).toBe(2);
  });

  it('waits longer before each restart when the engine keeps crashing', async () => {
    worker = startWorker({ backoffBaseMs: 300, backoffMaxMs: 2000 });
    const restartTimes: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const before = Date.now();
      await expect(worker.call('crash', {})).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
      restartTimes.push(Date.now() - before);
    }
    // 1st start: no delay; after one crash: none; after two: 300 ms; after three: 600 ms.
    const before = Date.now();
    await worker.call('echo', { text: 'up again' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(600);
    expect(restartTimes[2]).toBeGreaterThanOrEqual(300);
  });
});
