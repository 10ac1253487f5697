import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { cliAnswer, runMtmdCli } from '../support/mtmd-cli.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
let pair: LlavaPairResult;
let checker: TestImage;
let gradient: TestImage;

const ask = (...args: string[]) =>
  runCli([
    ...['ask', '--model', pair.modelPath, '--mmproj', pair.mmprojPath, '--threads', '1'],
    ...['--data-dir', join(dir, 'data'), ...args],
  ]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-cli-ask-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 11 });
  checker = await makeTestImage(dir, 'checker', { width: 80, height: 48 }, 'checker');
  gradient = await makeTestImage(dir, 'gradient', { width: 56, height: 56 }, 'gradient');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('llava-desk ask', () => {
  it('streams an answer about an image and exits 0', async () => {
    const r = await ask(
      '--image',
      checker.pngPath,
      '--prompt',
      'What is this?',
      '--max-tokens',
      '8',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().length).toBeGreaterThan(0);
  });

  it('prints {text, tokens, stats, engine} with --json, deterministically', async () => {
    // The first start probes node-llama-cpp's binaries; the data folder remembers what it found
    // and the next start skips that, with the same answer.
    await rm(join(dir, 'data', 'engine-start.json'), { force: true });
    const args = ['--image', checker.pngPath, '--json', '--max-tokens', '8'];
    const first = await ask(...args);
    const second = await ask(...args);
    expect(first.code, first.err).toBe(0);
    const parsed = JSON.parse(first.out) as {
      text: string;
      tokens: number[];
      stats: { imageTokens: number };
      engine: { startup: string };
    };
    expect(parsed.tokens).toHaveLength(8);
    expect(parsed.stats.imageTokens).toBe(16);
    expect(parsed.engine.startup).toBe('probed');
    expect(JSON.parse(second.out)).toMatchObject({
      text: parsed.text,
      tokens: parsed.tokens,
      engine: { startup: 'remembered' },
    });
  });

  it('answers with llama-mtmd-cli’s own tokens when the runtime preprocesses the image', async () => {
    for (const image of [checker, gradient]) {
      const ours = await ask(
        '--image',
        image.pngPath,
        '--prompt',
        'Describe the image.',
        '--max-tokens',
        '12',
        '--image-prep',
        'runtime',
        '--context-size',
        '4096',
        '--json',
      );
      expect(ours.code, ours.err).toBe(0);
      const upstream = await runMtmdCli({
        modelPath: pair.modelPath,
        mmprojPath: pair.mmprojPath,
        images: [image.pngPath],
        prompt: 'Describe the image.',
        maxTokens: 12,
        threads: 1,
        contextSize: 4096,
      });
      expect(upstream.code, upstream.stderr.slice(-1500)).toBe(0);
      expect((JSON.parse(ours.out) as { text: string }).text).toBe(cliAnswer(upstream).trimStart());
    }
  });

  it('takes several images in order and a --raw prompt with <image> placeholders', async () => {
    const two = await ask(
      '--image',
      checker.pngPath,
      '--image',
      gradient.pngPath,
      '--json',
      '--max-tokens',
      '6',
    );
    const swapped = await ask(
      '--image',
      gradient.pngPath,
      '--image',
      checker.pngPath,
      '--json',
      '--max-tokens',
      '6',
    );
    expect(two.code, two.err).toBe(0);
    expect(JSON.parse(two.out).stats.imageTokens).toBe(32);
    expect(JSON.parse(two.out).tokens).not.toEqual(JSON.parse(swapped.out).tokens);

    const raw = await ask(
      '--raw',
      '--prompt',
      'USER: <image>\nWhat is it? ASSISTANT:',
      '--image',
      checker.pngPath,
      '--json',
      '--max-tokens',
      '6',
    );
    expect(raw.code, raw.err).toBe(0);
    expect(JSON.parse(raw.out).stats.promptTokens).toBeGreaterThan(16);
    const mismatch = await ask('--raw', '--prompt', 'no placeholder', '--image', checker.pngPath);
    expect(mismatch.code).toBe(2);
  });

  it('exits 3 with a typed JSON error for a bad image or model file', async () => {
    const notImage = join(dir, 'notes.jpg');
    await writeFile(notImage, 'just some text, not a picture');
    const badImage = await ask('--image', notImage, '--json');
    expect(badImage.code).toBe(3);
    expect(JSON.parse(badImage.out).error.code).toBe('IMAGE_UNSUPPORTED');

    const truncated = join(dir, 'cut.png');
    await writeFile(truncated, (await sharp(checker.pngPath).png().toBuffer()).subarray(0, 60));
    expect((await ask('--image', truncated)).code).toBe(3);

    const { code, err } = await runCli([
      ...['ask', '--model', notImage, '--mmproj', pair.mmprojPath],
      ...['--image', checker.pngPath, '--data-dir', join(dir, 'data')],
    ]);
    expect(code).toBe(3);
    expect(err).toContain('not a GGUF');
  });

  it('exits 2 on usage errors: no image, one of --model/--mmproj, bad numbers', async () => {
    expect((await ask('--prompt', 'hi')).code).toBe(2);
    expect((await ask('--image', checker.pngPath, '--max-tokens', 'lots')).code).toBe(2);
    const half = await runCli([
      ...['ask', '--model', pair.modelPath, '--image', checker.pngPath],
      ...['--data-dir', join(dir, 'data')],
    ]);
    expect(half.code).toBe(2);
  });
});
