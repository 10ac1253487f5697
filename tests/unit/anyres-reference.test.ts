// The LLaVA-NeXT AnyRes reference (scripts/vision-parity/anyres-reference.ts, test tooling) on
// cases worked out by hand from llava/mm_utils.py, llava_arch.py and Pillow's resampling.

import { describe, expect, it } from 'vitest';
import {
  pillowResize,
  resizeAndPad,
  selectBestResolution,
  unpadRange,
  type Pinpoint,
  type Rgb8,
} from '../../scripts/vision-parity/anyres-reference.js';

const LLAVA_16: Pinpoint[] = [
  [336, 672],
  [672, 336],
  [672, 672],
  [1008, 336],
  [336, 1008],
];

const solid = (width: number, height: number, rgb: [number, number, number]): Rgb8 => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
};

describe('select_best_resolution', () => {
  it.each([
    [672, 672, [672, 672]],
    [1000, 500, [672, 336]],
    [300, 1200, [336, 1008]],
    // a small image: every candidate keeps it whole; 336 x 672 wastes least and comes first
    [336, 336, [336, 672]],
  ])('%i x %i -> %j', (w, h, best) => {
    expect(selectBestResolution(w, h, LLAVA_16)).toEqual(best);
  });
});

describe('unpad_image', () => {
  it('keeps the whole map when the aspect matches', () => {
    expect(unpadRange(672, 672, 48, 48)).toEqual({ row0: 0, rows: 48, col0: 0, cols: 48 });
  });

  it('600 x 400 on 48 x 48: new height int(400 * 48 / 600) = 32, padding 8', () => {
    expect(unpadRange(600, 400, 48, 48)).toEqual({ row0: 8, rows: 32, col0: 0, cols: 48 });
  });

  it('an odd difference keeps one row more: 84 x 70 on 6 x 6 -> new 5, padding 0', () => {
    expect(unpadRange(84, 70, 6, 6)).toEqual({ row0: 0, rows: 6, col0: 0, cols: 6 });
  });

  it('a tall image loses columns: 14 x 84 on 6 x 3 -> new width 1, padding 1', () => {
    expect(unpadRange(14, 84, 6, 3)).toEqual({ row0: 0, rows: 6, col0: 1, cols: 1 });
  });
});

describe("Pillow's bicubic resize and resize_and_pad", () => {
  it('is a copy at the same size', () => {
    const image: Rgb8 = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 250, 251, 252]) };
    const same = pillowResize(image, 2, 1);
    expect(same.data).toEqual(image.data);
    expect(same.data).not.toBe(image.data);
  });

  it('keeps a flat colour flat, down and up (the weights are normalised)', () => {
    for (const [w, h] of [
      [42, 42],
      [7, 130],
    ] as const) {
      const out = pillowResize(solid(84, 56, [200, 17, 90]), w, h);
      expect(out.width * out.height).toBe(w * h);
      expect(new Set(out.data)).toEqual(new Set([200, 17, 90]));
    }
  });

  it('averages a 2:1 downscale of alternating columns to the middle grey', () => {
    const data = new Uint8Array(8 * 1 * 3);
    for (let x = 0; x < 8; x++) data.fill(x % 2 ? 255 : 0, x * 3, x * 3 + 3);
    const out = pillowResize({ width: 8, height: 1, data }, 4, 1);
    // inner pixels see a symmetric kernel over equal numbers of 0 and 255 neighbours
    expect(out.data[3]).toBeGreaterThanOrEqual(126);
    expect(out.data[3]).toBeLessThanOrEqual(129);
  });

  it('pastes at scale 1 centred on black: 84 x 56 on 84 x 84 -> 14 rows of padding', () => {
    const out = resizeAndPad(solid(84, 56, [10, 20, 30]), [84, 84]);
    const at = (x: number, y: number): number[] => [
      ...out.data.subarray((y * 84 + x) * 3, (y * 84 + x) * 3 + 3),
    ];
    expect(at(40, 13)).toEqual([0, 0, 0]);
    expect(at(40, 14)).toEqual([10, 20, 30]);
    expect(at(40, 69)).toEqual([10, 20, 30]);
    expect(at(40, 70)).toEqual([0, 0, 0]);
  });
});
