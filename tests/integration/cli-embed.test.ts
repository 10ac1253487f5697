import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
let pair: LlavaPairResult;
let image: TestImage;

const embed = (...args: string[]) =>
  runCli(['embed', '--threads', '1', '--data-dir', join(dir, 'data'), ...args]);

const pairArgs = (): string[] => ['--model', pair.modelPath, '--mmproj', pair.mmprojPath];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-cli-embed-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 5 });
  image = await makeTestImage(dir, 'gradient', { width: 90, height: 60 }, 'gradient');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('llava-desk embed', () => {
  it('writes tokens x width float32 values and prints the shape', async () => {
    const out = join(dir, 'standard.f32');
    const r = await embed(...pairArgs(), '--image', image.pngPath, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const shape = JSON.parse(r.out) as { tokens: number; width: number };
    expect(shape).toEqual({ tokens: pair.mmproj.imageTokens, width: pair.llm.shape.nEmbd });
    const bytes = await readFile(out);
    expect(bytes.length).toBe(shape.tokens * shape.width * 4);
    const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(shape.width); // not a constant or empty image

    // a different picture gives different embeddings
    const other = await makeTestImage(dir, 'checker', { width: 90, height: 60 }, 'checker');
    const out2 = join(dir, 'checker.f32');
    expect((await embed(...pairArgs(), '--image', other.pngPath, '--out', out2)).code).toBe(0);
    expect((await readFile(out2)).equals(bytes)).toBe(false);
  });

  it('with high detail writes every tile the engine would get', async () => {
    const out = join(dir, 'high.f32');
    const r = await embed(
      ...pairArgs(),
      '--image',
      image.pngPath,
      '--detail',
      'high',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const shape = JSON.parse(r.out) as { tokens: number; width: number };
    expect(shape.tokens).toBeGreaterThan(pair.mmproj.imageTokens);
    expect(shape.tokens % pair.mmproj.imageTokens).toBe(0);
    expect((await stat(out)).size).toBe(shape.tokens * shape.width * 4);
  });

  it('refuses an unwritable --out before loading anything, with a usage exit code', async () => {
    const r = await embed(
      ...pairArgs(),
      '--image',
      image.pngPath,
      '--out',
      join(dir, 'no-such-folder', 'x.f32'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Cannot write .*no-such-folder/);
  });

  it('keeps an existing --out file and leaves nothing behind when the image is bad', async () => {
    const folder = join(dir, 'keep');
    await rm(folder, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder);
    const out = join(folder, 'old.f32');
    await writeFile(out, 'previous result');
    const bad = join(folder, 'broken.png');
    await writeFile(bad, 'not a png at all');
    const r = await embed(...pairArgs(), '--image', bad, '--out', out);
    expect(r.code).toBe(3);
    expect(await readFile(out, 'utf8')).toBe('previous result');
    expect(await readdir(folder)).toEqual(['broken.png', 'old.f32']);
  });

  it('needs --image and --out', async () => {
    const r = await embed(...pairArgs(), '--out', join(dir, 'x.f32'));
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'x.f32'))).toBe(false);
  });
});
