import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import type { EngineLoadOptions } from '../../src-main/api/engine.js';
import { EngineClient } from '../../src-main/engine/engine-client.js';
import { installFilesFor } from '../../src-main/engine/native/binding.js';
import { installKey } from '../../src-main/engine/native/startup-memo.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';

// An engine process that finds the data folder's memo of an earlier start loads the backends
// itself, without node-llama-cpp (its import and its binary-test child are most of a cold
// start's overhead), and must then answer exactly as a probed start does.

let dir: string;
let pair: LlavaPairResult;
let image: TestImage;
let memo: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-remembered-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 23 });
  image = await makeTestImage(dir, 'checker', { width: 48, height: 32 }, 'checker');
  memo = join(dir, 'data', 'engine-start.json');
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One engine process: loads, answers one greedy question, exits. */
async function startAndAsk(options: Partial<EngineLoadOptions> = {}) {
  const engine = new EngineClient();
  try {
    const info = await engine.load({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      threads: 1,
      startupMemoPath: memo,
      ...options,
    });
    const answer = await engine.complete({
      sessionId: 'remembered',
      conversation: { turns: [{ user: 'What is this?', imageCount: 1 }] },
      images: [image],
      sampling: { temperature: 0, maxTokens: 12 },
    });
    return { info, text: answer.text, tokens: answer.tokens };
  } finally {
    engine.dispose();
  }
}

describe('the remembered start', () => {
  it('probes once, then starts from the memo with the same plan and the same answer', async () => {
    const probed = await startAndAsk();
    expect(probed.info.startup).toBe('probed');
    const written = JSON.parse(await readFile(memo, 'utf8')) as {
      runtime: { variant: string };
      fits: Record<string, { contextSize: number }>;
    };
    expect(written.runtime.variant).toBe(probed.info.variant);
    expect(Object.values(written.fits).map((f) => f.contextSize)).toEqual([
      probed.info.contextSize,
    ]);

    const remembered = await startAndAsk();
    expect(remembered.info.startup).toBe('remembered');
    expect(remembered.info.contextSize).toBe(probed.info.contextSize);
    expect(remembered.info.threads).toBe(probed.info.threads);
    expect(remembered.tokens).toEqual(probed.tokens);
    expect(remembered.text).toBe(probed.text);
  }, 120_000);

  it('probes again when the memo came from another install, and mends it', async () => {
    const written = JSON.parse(await readFile(memo, 'utf8')) as { install: string };
    await writeFile(memo, JSON.stringify({ ...written, install: 'another machine' }));
    expect((await startAndAsk({ contextSize: 1024 })).info.startup).toBe('probed');
    expect((await startAndAsk({ contextSize: 1024 })).info.startup).toBe('remembered');
  }, 120_000);

  it('plans again for files that changed since their plan was made', async () => {
    // The memo of another install lost its plans in the test before: probed, then remembered.
    expect((await startAndAsk()).info.startup).toBe('probed');
    expect((await startAndAsk()).info.startup).toBe('remembered');
    await writeFile(pair.mmprojPath, await readFile(pair.mmprojPath)); // same bytes, new time
    expect((await startAndAsk()).info.startup).toBe('probed');
  }, 120_000);

  it('forgets a remembered start that fails and probes instead', async () => {
    // A memo that matches the install but names a bins folder without any ggml backend (as
    // after a library was removed in place): the start falls back to probing and the answer is
    // the probed one.
    const good = JSON.parse(await readFile(memo, 'utf8')) as {
      runtime: { variant: string; binsDir: string };
    };
    const expected = await startAndAsk({ contextSize: 1024 });
    const emptyBins = join(dir, 'bins-without-backends');
    await mkdir(emptyBins, { recursive: true });
    const files = installFilesFor(good.runtime.variant, good.runtime.binsDir)!;
    await copyFile(files.libraryPath, join(emptyBins, files.libraryPath.split('/').pop()!));
    const broken = { ...good.runtime, binsDir: emptyBins };
    await writeFile(
      memo,
      JSON.stringify({
        version: 1,
        install: await installKey(installFilesFor(broken.variant, emptyBins)!),
        runtime: broken,
        fits: {},
      }),
    );
    const fallback = await startAndAsk({ contextSize: 1024 });
    expect(fallback.info.startup).toBe('probed');
    expect(fallback.tokens).toEqual(expected.tokens);
    const mended = JSON.parse(await readFile(memo, 'utf8')) as { runtime: { binsDir: string } };
    expect(mended.runtime.binsDir).toBe(good.runtime.binsDir);
  }, 120_000);
});
