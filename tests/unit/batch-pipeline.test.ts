import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../src-main/batch/job-store.js';
import { Prefetcher } from '../../src-main/batch/prefetch.js';
import { ProgressTracker } from '../../src-main/batch/progress.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-pipe-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Lets every pending promise callback run (a macrotask comes after all microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Prefetcher', () => {
  it('works ahead of the consumer, one item at a time, in order', async () => {
    const started: number[] = [];
    const finish = new Map<number, () => void>();
    let running = 0;
    let most = 0;
    // Each item's work ends only when the test says so.
    const p = new Prefetcher(
      [1, 2, 3, 4, 5],
      (n) => {
        started.push(n);
        running += 1;
        most = Math.max(most, running);
        return new Promise<number>((resolve) =>
          finish.set(n, () => {
            running -= 1;
            resolve(n * 10);
          }),
        );
      },
      2,
    );
    const end = async (n: number): Promise<void> => {
      finish.get(n)?.();
      await settle();
    };
    await settle();
    expect(started).toEqual([1]); // one at a time: 2 waits for 1
    await end(1);
    expect(started).toEqual([1, 2]);
    await end(2);
    expect(started).toEqual([1, 2]); // two ahead and nobody consumed: 3 waits for the consumer
    expect(await p.next()).toBe(10);
    await settle();
    expect(started).toEqual([1, 2, 3]);

    const got = [10];
    for (let n = 2; n <= 5; n += 1) {
      const value = p.next();
      await end(n + 1);
      got.push((await value) ?? -1);
    }
    expect(await p.next()).toBeUndefined();
    expect(got).toEqual([10, 20, 30, 40, 50]);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(1);
  });
});

describe('JobStore', () => {
  it('survives a line cut short by a kill and keeps appending whole lines', async () => {
    const root = '/photos';
    const first = await JobStore.open(dir, root);
    await first.append({
      status: 'done',
      path: 'a.jpg',
      sha256: 's',
      width: 1,
      height: 1,
      model: 'm',
      prompt: 'p',
      text: 'one',
      tokens: 1,
      ms: 1,
      run: 'r',
      at: 'now',
    });
    await first.close();
    const log = join(first.dir, 'items.jsonl');
    await writeFile(log, `${await readFile(log, 'utf8')}{"status":"done","path":"b.j`);
    const second = await JobStore.open(dir, root);
    expect(second.done('a.jpg')?.text).toBe('one');
    expect(second.done('b.jpg')).toBeUndefined();
    await second.append({
      status: 'failed',
      path: 'c.jpg',
      code: 'X',
      message: 'm',
      run: 'r',
      at: 'now',
    });
    await second.close();
    const third = await JobStore.open(dir, root);
    expect(third.failed('c.jpg')?.code).toBe('X');
    await third.close();
  });

  it('refuses a second live process and takes over a dead one’s lock', async () => {
    const store = await JobStore.open(dir, '/x');
    await store.close();
    await writeFile(join(store.dir, 'lock'), String(process.ppid));
    await expect(JobStore.open(dir, '/x')).rejects.toMatchObject({ code: 'JOB_RUNNING' });
    await writeFile(join(store.dir, 'lock'), '999999999');
    const again = await JobStore.open(dir, '/x');
    await again.close();
  });
});

describe('ProgressTracker', () => {
  it('counts, rates and estimates', () => {
    let now = 0;
    const t = new ProgressTracker(() => now);
    t.update({ type: 'queued', jobId: 'j', total: 10, paths: [], ignored: [] });
    t.update({ type: 'started', path: 'a' });
    now = 30_000;
    t.update({ type: 'skipped', path: 'z', reason: 'unchanged' });
    t.update({ type: 'failed', path: 'y', code: 'C', message: 'm' });
    for (const path of ['a', 'b', 'c']) {
      t.update({
        type: 'done',
        path,
        text: '',
        record: {
          status: 'done',
          path,
          sha256: '',
          width: 1,
          height: 1,
          model: '',
          prompt: '',
          text: '',
          tokens: 0,
          ms: 0,
          run: '',
          at: '',
        },
      });
    }
    const s = t.snapshot();
    expect(s).toMatchObject({ total: 10, described: 3, skipped: 1, failed: 1, remaining: 5 });
    expect(s.perMinute).toBeCloseTo(6);
    expect(s.etaMs).toBeCloseTo(50_000);
  });
});
