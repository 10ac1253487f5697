import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  BLUE,
  GREEN,
  RED,
  WHITE,
  jpeg,
  png,
  quadrants,
  rawImage,
  solid,
  storeForOrientation,
  type Rgb,
} from '../fixtures/image-corpus.js';
import {
  LLAVA_15_ENCODER,
  planForEncoder,
  prepareForEncoder,
  type EncoderSpec,
  type PreparedBitmap,
} from '../../src-main/imaging/index.js';

const PAD: Rgb = [122, 116, 104];

function at(bitmap: PreparedBitmap, x: number, y: number): Rgb {
  const i = (y * bitmap.width + x) * 3;
  return [bitmap.data[i] ?? -1, bitmap.data[i + 1] ?? -1, bitmap.data[i + 2] ?? -1];
}

function near(actual: Rgb, expected: Rgb, tolerance = 6): boolean {
  return actual.every((v, i) => Math.abs(v - (expected[i] ?? 0)) <= tolerance);
}

function expectNear(actual: Rgb, expected: Rgb, what: string, tolerance = 6): void {
  expect(
    near(actual, expected, tolerance),
    `${what}: ${actual.join(',')} vs ${expected.join(',')}`,
  ).toBe(true);
}

/** Rows (or columns) of the middle line that hold the picture rather than the pad colour. */
function pictureSpan(bitmap: PreparedBitmap, axis: 'rows' | 'columns'): [number, number] {
  const length = axis === 'rows' ? bitmap.height : bitmap.width;
  const middle = axis === 'rows' ? bitmap.width >> 1 : bitmap.height >> 1;
  const inside: number[] = [];
  for (let i = 0; i < length; i++) {
    const colour = axis === 'rows' ? at(bitmap, middle, i) : at(bitmap, i, middle);
    if (!near(colour, PAD, 10)) inside.push(i);
  }
  return [inside[0] ?? -1, inside[inside.length - 1] ?? -1];
}

async function prepare(bytes: Uint8Array, detail: 'standard' | 'high', encoder?: EncoderSpec) {
  return prepareForEncoder({ bytes, name: 'test.png' }, { detail, encoder });
}

describe('standard: pad to a square with the CLIP mean, centred, at the encoder size', () => {
  it('pads a wide image above and below, evenly', async () => {
    const image = await prepare(await png(solid(300, 100, RED)), 'standard');
    expect(image.bitmaps).toHaveLength(1);
    const [square] = image.bitmaps;
    if (!square) throw new Error('no bitmap');
    expect([square.kind, square.width, square.height]).toEqual(['padded-square', 336, 336]);
    expect(at(square, 168, 10)).toEqual(PAD);
    expect(at(square, 168, 325)).toEqual(PAD);
    expectNear(at(square, 168, 168), RED, 'centre');
    const [top, bottom] = pictureSpan(square, 'rows');
    expect(Math.abs(top - 112)).toBeLessThanOrEqual(2); // 100 of 300 rows start at 1/3
    expect(Math.abs(top - (335 - bottom))).toBeLessThanOrEqual(1);
  });

  it('pads a tall image left and right, evenly', async () => {
    const image = await prepare(await png(solid(90, 270, BLUE)), 'standard');
    const [square] = image.bitmaps;
    if (!square) throw new Error('no bitmap');
    expect(at(square, 5, 168)).toEqual(PAD);
    expect(at(square, 330, 168)).toEqual(PAD);
    const [left, right] = pictureSpan(square, 'columns');
    expect(Math.abs(left - 112)).toBeLessThanOrEqual(2);
    expect(Math.abs(left - (335 - right))).toBeLessThanOrEqual(1);
  });

  it('uses the encoder size of the mmproj', async () => {
    const encoder = { ...LLAVA_15_ENCODER, imageSize: 224 };
    const image = await prepare(await png(solid(50, 40, GREEN)), 'standard', encoder);
    expect(image.bitmaps.map((b) => [b.width, b.height])).toEqual([[224, 224]]);
    expect(image.tokens).toBe(256);
  });

  it('prepares the upright picture of a turned photo', async () => {
    const upright = quadrants(400, 200);
    const image = await prepare(await jpeg(storeForOrientation(upright, 6), 6), 'standard');
    expect([image.width, image.height, image.orientation]).toEqual([400, 200, 6]);
    const [square] = image.bitmaps;
    if (!square) throw new Error('no bitmap');
    expectNear(at(square, 40, 110), RED, 'top left', 12);
    expectNear(at(square, 296, 110), GREEN, 'top right', 12);
    expectNear(at(square, 40, 226), BLUE, 'bottom left', 12);
    expectNear(at(square, 296, 226), WHITE, 'bottom right', 12);
  });
});

describe('high: global view first, then tiles of the padded canvas, row-major', () => {
  it('cuts a 1000 x 500 picture into a squashed global view and 2 x 1 tiles', async () => {
    const image = await prepare(await png(quadrants(1000, 500)), 'high');
    expect(image.plan.grid).toEqual({ cols: 2, rows: 1 });
    expect(image.bitmaps.map((b) => b.kind)).toEqual(['global-view', 'tile', 'tile']);
    expect(image.bitmaps.every((b) => b.width === 336 && b.height === 336)).toBe(true);
    expect(image.tokens).toBe(3 * 576);
    const [global, left, right] = image.bitmaps;
    if (!global || !left || !right) throw new Error('missing bitmaps');
    // Squashed, not padded: the quadrants fill the whole global view.
    expectNear(at(global, 5, 5), RED, 'global top left');
    expectNear(at(global, 330, 5), GREEN, 'global top right');
    expectNear(at(global, 5, 330), BLUE, 'global bottom left');
    expectNear(at(global, 330, 330), WHITE, 'global bottom right');
    expectNear(at(left, 100, 50), RED, 'left tile top');
    expectNear(at(left, 100, 300), BLUE, 'left tile bottom');
    expectNear(at(right, 100, 50), GREEN, 'right tile top');
    expectNear(at(right, 100, 300), WHITE, 'right tile bottom');
  });

  it('pads the canvas with the mean colour, centred (1000 x 400 on 1008 x 336)', async () => {
    const image = await prepare(await png(solid(1000, 400, RED)), 'high');
    expect(image.plan.resolution).toEqual([1008, 336]);
    const [, first, middle, last] = image.bitmaps;
    if (!first || !middle || !last) throw new Error('missing tiles');
    // fitted 840 x 336, pasted at x = 84
    expect(at(first, 80, 168)).toEqual(PAD);
    expectNear(at(first, 90, 168), RED, 'first tile after the pad');
    expectNear(at(middle, 168, 168), RED, 'middle tile');
    expectNear(at(last, 245, 168), RED, 'last tile before the pad');
    expect(at(last, 256, 168)).toEqual(PAD);
  });

  it('hands a LLaVA-1.6 runtime one smaller image and lets it tile', async () => {
    const encoder: EncoderSpec = {
      ...LLAVA_15_ENCODER,
      gridPinpoints: [
        [336, 672],
        [672, 336],
        [672, 672],
        [1008, 336],
        [336, 1008],
      ],
      imageNewline: true,
    };
    const image = await prepare(await jpeg(solid(2000, 1500, GREEN)), 'high', encoder);
    expect(image.plan.tiling).toBe('runtime');
    expect(image.bitmaps.map((b) => [b.kind, b.width, b.height])).toEqual([['whole', 672, 505]]);
    expect(image.plan.resolution).toEqual([672, 672]);
    // packed as LLaVA-NeXT does: the 48 x 48 tile map unpadded from 672 x 505 keeps 36 rows
    // (505 * 48 / 672 = 36.07, padding (48 - 36) / 2 = 6), each followed by image_newline
    expect(image.tokens).toBe(576 + 36 * 48 + 36);
  });
});

describe('hashes and thumbnails', () => {
  it('hashes the original bytes and each prepared bitmap with its size', async () => {
    const bytes = await png(quadrants(800, 400));
    const planned = await planForEncoder({ bytes, name: 'a.png' }, { detail: 'high' });
    expect(planned.sourceSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const first = await prepare(bytes, 'high');
    const hashes = first.bitmaps.map((b) => b.pixelHash);
    expect(new Set(hashes).size).toBe(hashes.length);
    const again = await prepare(bytes, 'high');
    expect(again.bitmaps.map((b) => b.pixelHash)).toEqual(hashes);
    const [global] = first.bitmaps;
    if (!global) throw new Error('no bitmap');
    const expected = createHash('sha256')
      .update('rgb8 336x336\n')
      .update(global.data)
      .digest('hex');
    expect(global.pixelHash).toBe(expected);
  });

  it('makes an upright WebP thumbnail of at most 256 px', async () => {
    const upright = rawImage(600, 300, (x) => (x < 300 ? RED : BLUE));
    const image = await prepare(await jpeg(storeForOrientation(upright, 8), 8), 'standard');
    const thumbnail = image.thumbnail;
    if (!thumbnail) throw new Error('no thumbnail');
    expect([thumbnail.width, thumbnail.height]).toEqual([256, 128]);
    const meta = await sharp(thumbnail.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 128]);
    const { data } = await sharp(thumbnail.data).raw().toBuffer({ resolveWithObject: true });
    const left: Rgb = [
      data[(64 * 256 + 20) * 3] ?? 0,
      data[(64 * 256 + 20) * 3 + 1] ?? 0,
      data[(64 * 256 + 20) * 3 + 2] ?? 0,
    ];
    expectNear(left, RED, 'thumbnail left', 20);
  });

  it('plans without rendering: same report as prepareForEncoder', async () => {
    const bytes = await jpeg(quadrants(1200, 900));
    const planned = await planForEncoder({ bytes, name: 'a.jpg' }, { detail: 'high' });
    const prepared = await prepare(bytes, 'high');
    expect(planned.plan).toEqual(prepared.plan);
    expect(planned.tokens).toBe(prepared.tokens);
  });
});
