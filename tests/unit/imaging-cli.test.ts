import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  heic,
  jpeg,
  png,
  pngBomb,
  quadrants,
  solid,
  storeForOrientation,
  truncated,
  RED,
} from '../fixtures/image-corpus.js';
import { gguf, writeGgufFile, type GgufValue } from '../../scripts/gguf/writer.js';
import { runCli } from '../support/run-cli.js';

const run = (...args: string[]) => runCli(['inspect-image', ...args]);

/** An mmproj with metadata only (and LLaVA-1.6's v.image_newline if asked): all the planner reads. */
async function writeMmproj(
  path: string,
  imageSize: number,
  pinpoints: number[],
  imageNewline = false,
): Promise<void> {
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', gguf.string('clip')],
    ['clip.projector_type', gguf.string('mlp')],
    ['clip.has_vision_encoder', gguf.bool(true)],
    ['clip.vision.image_size', gguf.u32(imageSize)],
    ['clip.vision.patch_size', gguf.u32(14)],
  ]);
  if (pinpoints.length > 0) {
    metadata.set('clip.vision.image_grid_pinpoints', gguf.array('i32', pinpoints));
  }
  const tensors = imageNewline
    ? [{ name: 'v.image_newline', shape: [32], type: 'f32' as const, data: new Float32Array(32) }]
    : [];
  await writeGgufFile(path, { metadata, tensors });
}

describe('llava-desk inspect-image', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llava-desk-inspect-'));
    const upright = quadrants(1000, 500);
    await writeFile(file('wide.png'), await png(upright));
    await writeFile(file('turned.jpg'), await jpeg(storeForOrientation(upright, 6), 6));
    await writeFile(file('photo.heic'), heic());
    await writeFile(file('notes.jpg'), 'these are my notes, not a photo\n'.repeat(20));
    await writeFile(file('bomb.png'), pngBomb(100_000, 100_000));
    await writeFile(file('cut.jpg'), truncated(await jpeg(solid(300, 200, RED)), 0.5));
    await writeFile(file('empty.png'), '');
    await writeMmproj(
      file('llava16-mmproj.gguf'),
      336,
      [336, 672, 672, 336, 672, 672, 1008, 336, 336, 1008],
    );
    await writeMmproj(
      file('llava16-newline-mmproj.gguf'),
      336,
      [336, 672, 672, 336, 672, 672, 1008, 336, 336, 1008],
      true,
    );
    await writeFile(file('three-two.png'), await png(quadrants(600, 400)));
    await writeMmproj(file('small-mmproj.gguf'), 224, []);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints exactly the documented JSON for the standard plan', async () => {
    const { code, out } = await run(file('wide.png'), '--json');
    expect(code).toBe(0);
    expect(out).toBe(
      '{"format":"png","width":1000,"height":500,"orientation":1,' +
        '"plan":{"mode":"standard","grid":{"cols":1,"rows":1},"resolution":[336,336],' +
        '"tiles":1,"tokens":576}}\n',
    );
  });

  it('plans high detail: grid, chosen resolution, global view + tiles, tokens', async () => {
    const { code, out } = await run(file('wide.png'), '--detail', 'high', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      format: 'png',
      width: 1000,
      height: 500,
      orientation: 1,
      plan: {
        mode: 'high',
        grid: { cols: 2, rows: 1 },
        resolution: [672, 336],
        tiles: 3,
        tokens: 1728,
      },
    });
  });

  it('reports the size after EXIF orientation', async () => {
    const { out } = await run(file('turned.jpg'), '--detail', 'high', '--json');
    expect(JSON.parse(out)).toMatchObject({
      format: 'jpeg',
      width: 1000,
      height: 500,
      orientation: 6,
    });
  });

  it('reads HEIC', async () => {
    const { code, out } = await run(file('photo.heic'), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ format: 'heic', width: 96, height: 64 });
  });

  it('plans for a given mmproj: its image size, or runtime tiling with its pinpoints', async () => {
    const small = await run(file('wide.png'), '--mmproj', file('small-mmproj.gguf'), '--json');
    expect(JSON.parse(small.out).plan).toEqual({
      mode: 'standard',
      grid: { cols: 1, rows: 1 },
      resolution: [224, 224],
      tiles: 1,
      tokens: 256,
    });
    const llava16 = await run(
      file('wide.png'),
      '--detail',
      'high',
      '--mmproj',
      file('llava16-mmproj.gguf'),
      '--json',
    );
    expect(llava16.code).toBe(0);
    expect(JSON.parse(llava16.out).plan).toEqual({
      mode: 'high',
      grid: { cols: 2, rows: 1 },
      resolution: [672, 336],
      tiles: 3,
      tokens: 1728,
    });
  });

  it('counts LLaVA-1.6 tokens as the reference packs them (unpadded map, image_newline rows)', async () => {
    const plan = async (image: string): Promise<unknown> => {
      const r = await run(
        file(image),
        '--detail',
        'high',
        '--mmproj',
        file('llava16-newline-mmproj.gguf'),
        '--json',
      );
      expect(r.code).toBe(0);
      return JSON.parse(r.out).plan;
    };
    // 1000 x 500 -> 672 x 336, 2 x 1 tiles: 24 x 48 map, nothing to unpad: 576 + 1152 + 24
    expect(await plan('wide.png')).toMatchObject({ resolution: [672, 336], tokens: 1752 });
    // 600 x 400 -> 672 x 672, 2 x 2 tiles: int(400 * 48 / 600) = 32 rows kept: 576 + 1536 + 32
    expect(await plan('three-two.png')).toMatchObject({ resolution: [672, 672], tokens: 2144 });
  });

  it('prints a readable summary without --json', async () => {
    const { code, out } = await run(file('turned.jpg'), '--detail', 'high');
    expect(code).toBe(0);
    expect(out).toContain('turned.jpg: JPEG, 1000 x 500, EXIF orientation 6');
    expect(out).toContain('tokens: 1728');
  });

  it.each([
    ['notes.jpg', 'IMAGE_UNSUPPORTED'],
    ['bomb.png', 'IMAGE_TOO_LARGE'],
    ['cut.jpg', 'IMAGE_CORRUPT'],
    ['empty.png', 'IMAGE_CORRUPT'],
    ['missing.png', 'IMAGE_NOT_FOUND'],
  ])('refuses %s with %s and exit 3, as JSON', async (name, errorCode) => {
    const { code, out } = await run(file(name), '--json');
    expect(code).toBe(3);
    const parsed = JSON.parse(out) as { error: { code: string; message: string } };
    expect(Object.keys(parsed)).toEqual(['error']);
    expect(Object.keys(parsed.error)).toEqual(['code', 'message']);
    expect(parsed.error.code).toBe(errorCode);
    expect(parsed.error.message).toContain(name);
  });

  it('refuses with a plain message on stderr without --json', async () => {
    const { code, out, err } = await run(file('notes.jpg'));
    expect(code).toBe(3);
    expect(out).toBe('');
    expect(err).toMatch(/^llava-desk inspect-image: notes\.jpg: text, not an image/);
  });

  it('refuses an mmproj that is not a vision projector, and a bad --detail', async () => {
    const notGguf = await run(file('wide.png'), '--mmproj', file('wide.png'), '--json');
    expect(notGguf.code).toBe(3);
    expect(JSON.parse(notGguf.out).error.code).toBe('NOT_GGUF');
    const badDetail = await run(file('wide.png'), '--detail', 'ultra');
    expect(badDetail.code).toBe(2);
  });
});
