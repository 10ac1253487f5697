import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchJob, type BatchEngine } from '../../src-main/batch/job.js';
import type { BatchEvent, JobOptions } from '../../src-main/batch/types.js';
import type {
  CompletionRequest,
  ManyCallbacks,
  ManyOutcome,
} from '../../src-main/engine/vision-engine.js';
import { LLAVA_15_ENCODER } from '../../src-main/imaging/index.js';

let dir: string;
let folder: string;

/** Answers "image <first 6 hex of the pixel hash>" token by token; honours the abort signal. */
class FakeEngine implements BatchEngine {
  calls: number[] = [];
  delayMs = 0;
  async completeMany(
    requests: CompletionRequest[],
    callbacks: ManyCallbacks = {},
  ): Promise<ManyOutcome[]> {
    this.calls.push(requests.length);
    const outcomes: ManyOutcome[] = [];
    for (const [i, r] of requests.entries()) {
      const words = ['image', (r.images[0]?.id ?? '').slice(0, 6)];
      const tokens: number[] = [];
      let stop: 'eog' | 'aborted' = 'eog';
      for (const w of words) {
        if (callbacks.signal?.aborted) {
          stop = 'aborted';
          break;
        }
        await new Promise((res) => setTimeout(res, this.delayMs));
        tokens.push(tokens.length);
        callbacks.onToken?.(i, { token: tokens.length, text: ` ${w}` });
      }
      outcomes.push({
        ok: true,
        value: {
          text: words.slice(0, tokens.length).join(' '),
          tokens,
          stopReason: stop,
          stats: {
            imageEncodeMs: 0,
            imageTokens: 0,
            cachedImages: 0,
            promptTokens: 0,
            promptMs: 0,
            reusedTokens: 0,
            generatedTokens: tokens.length,
            tokensPerSecond: 0,
            timeToFirstTokenMs: 0,
            totalMs: 5,
          },
        },
      });
    }
    return outcomes;
  }
}

async function image(path: string, seed: number): Promise<void> {
  const raw = Buffer.alloc(20 * 20 * 3, seed * 40);
  await sharp(raw, { raw: { width: 20, height: 20, channels: 3 } })
    .png()
    .toFile(path);
}

async function countSidecars(): Promise<number> {
  return (await readdir(folder)).filter((name) => name.endsWith('.txt')).length;
}

function makeJob(engine: BatchEngine, options: Partial<JobOptions> = {}) {
  const job = new BatchJob(
    { folder, outputs: ['txt', 'jsonl', 'csv', 'xmp'], ...options },
    {
      engine,
      parallel: 2,
      modelPath: '/models/m.gguf',
      encoder: LLAVA_15_ENCODER,
      jobsDir: join(dir, 'jobs'),
    },
  );
  const events: BatchEvent[] = [];
  job.on((e) => events.push(e));
  return { job, events };
}

const ofType = <T extends BatchEvent['type']>(events: BatchEvent[], type: T) =>
  events.filter((e): e is Extract<BatchEvent, { type: T }> => e.type === type);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-job-'));
  folder = join(dir, 'photos');
  await mkdir(folder);
  for (let n = 0; n < 5; n += 1) await image(join(folder, `p${n}.png`), n);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BatchJob', () => {
  it('describes every image in waves of `parallel`, with events in order', async () => {
    const engine = new FakeEngine();
    const { job, events } = makeJob(engine);
    const summary = await job.run();
    expect(summary).toMatchObject({ total: 5, described: 5, skipped: 0, failed: [] });
    expect(engine.calls).toEqual([2, 2, 1]);
    expect(events[0]).toMatchObject({ type: 'queued', total: 5 });
    expect(events.at(-1)?.type).toBe('finished');
    const p0 = events.filter((e) => 'path' in e && e.path === 'p0.png').map((e) => e.type);
    expect(p0).toEqual(['started', 'tokens', 'tokens', 'done']);
    const txt = await readFile(join(folder, 'p0.txt'), 'utf8');
    expect(txt).toMatch(/^image [0-9a-f]{6}\n$/);
    const jsonl = (await readFile(join(folder, 'llava-desk.jsonl'), 'utf8')).trim().split('\n');
    expect(jsonl).toHaveLength(5);
  });

  it('skips unchanged images on a second run and redoes a changed one', async () => {
    await makeJob(new FakeEngine()).job.run();
    await image(join(folder, 'p3.png'), 9);
    const engine = new FakeEngine();
    const { job, events } = makeJob(engine);
    const summary = await job.run();
    expect(summary).toMatchObject({ described: 1, skipped: 4 });
    expect(ofType(events, 'done').map((e) => e.path)).toEqual(['p3.png']);
    const rows = (await readFile(join(folder, 'llava-desk.csv'), 'utf8')).trim().split('\r\n');
    expect(rows).toHaveLength(6);
  });

  it('restores a sidecar deleted after its description', async () => {
    await makeJob(new FakeEngine()).job.run();
    const before = await readFile(join(folder, 'p1.png.xmp'), 'utf8');
    await rm(join(folder, 'p1.png.xmp'));
    await makeJob(new FakeEngine()).job.run();
    expect(await readFile(join(folder, 'p1.png.xmp'), 'utf8')).toBe(before);
  });

  it('leaves a foreign sidecar alone unless told: fail, skip, overwrite', async () => {
    await writeFile(join(folder, 'p2.txt'), 'mine\n');
    const asked = await makeJob(new FakeEngine()).job.run();
    expect(asked.failed).toEqual([
      expect.objectContaining({ path: 'p2.png', code: 'OUTPUT_EXISTS' }),
    ]);
    expect(await readFile(join(folder, 'p2.txt'), 'utf8')).toBe('mine\n');
    const skipped = await makeJob(new FakeEngine(), { existing: 'skip' }).job.run();
    expect(skipped).toMatchObject({ described: 0, skipped: 5, failed: [] });
    expect(await readFile(join(folder, 'p2.txt'), 'utf8')).toBe('mine\n');
    const replaced = await makeJob(new FakeEngine(), { existing: 'overwrite' }).job.run();
    expect(replaced).toMatchObject({ described: 5, failed: [] });
    expect(await readFile(join(folder, 'p2.txt'), 'utf8')).toMatch(/^image /);
  });

  /** Pauses at the first event of `trigger`, resumes 50 ms after the job says it holds. */
  async function pauseAt(trigger: BatchEvent['type']) {
    const engine = new FakeEngine();
    engine.delayMs = 10;
    const { job, events } = makeJob(engine);
    let asked = false;
    let sidecarsAtHold = -1;
    job.on((e) => {
      if (e.type === trigger && !asked) {
        asked = true;
        job.pause();
      }
      if (e.type === 'paused') {
        void countSidecars().then((n) => (sidecarsAtHold = n));
        setTimeout(() => job.resume(), 50);
      }
    });
    const summary = await job.run();
    const types = events.map((e) => e.type);
    return { summary, events, types, sidecarsAtHold };
  }

  it.each(['tokens', 'done'] as const)(
    'pauses at the first %s event, holds with nothing more written, and finishes on resume',
    async (trigger) => {
      const { summary, events, types, sidecarsAtHold } = await pauseAt(trigger);
      expect(summary).toMatchObject({ described: 5, failed: [], cancelled: false });
      expect(types.filter((t) => t === 'pausing' || t === 'paused' || t === 'resumed')).toEqual([
        'pausing',
        'paused',
        'resumed',
      ]);
      // Holding means holding: nothing starts or is described between "paused" and "resumed",
      // and the sidecars on disk at the hold are exactly the images reported done by then
      // (what the wave had finished when Pause came is written before the job says it holds).
      const held = types.slice(types.indexOf('paused'), types.indexOf('resumed'));
      expect(held.filter((t) => t === 'done' || t === 'started')).toEqual([]);
      const doneAtHold = types.slice(0, types.indexOf('paused')).filter((t) => t === 'done');
      expect(sidecarsAtHold).toBe(doneAtHold.length);
      expect(new Set(ofType(events, 'done').map((e) => e.path)).size).toBe(5);
    },
  );

  it('cancels, keeps what is done, and a new run continues from there', async () => {
    const engine = new FakeEngine();
    engine.delayMs = 5;
    const { job } = makeJob(engine);
    job.on((e) => {
      if (e.type === 'done') job.cancel();
    });
    const first = await job.run();
    expect(first.cancelled).toBe(true);
    expect(first.described).toBeGreaterThanOrEqual(1);
    expect(first.described).toBeLessThan(5);
    const second = await makeJob(new FakeEngine()).job.run();
    expect(second.described + first.described).toBe(5);
    expect(second.skipped).toBe(first.described);
    const names = (await readdir(folder)).filter((n) => n.endsWith('.txt'));
    expect(names).toHaveLength(5);
    expect((await readdir(folder)).some((n) => n.startsWith('.tmp-'))).toBe(false);
  });
});
