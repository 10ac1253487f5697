// The token counts the app shows before sending (inspect-image, the composer's budget) for
// LLaVA-1.6 files, which the runtime tiles itself: LLaVA-NeXT's pack_image_features as llava-desk's
// patched libmtmd emits it (docs/UPSTREAM.md). Every expected number is worked out by hand.

import { describe, expect, it } from 'vitest';
import {
  LLAVA_15_ENCODER,
  anyResCandidates,
  estimateTokenCounter,
  llavaNextTokens,
  planImage,
  planTokens,
  unpaddedMap,
  type EncoderSpec,
} from '../../src-main/imaging/index.js';

/** LLaVA-1.6 (CLIP ViT-L/14 at 336: 24 x 24 tokens a tile) with its default grids. */
const llava16: EncoderSpec = {
  ...LLAVA_15_ENCODER,
  gridPinpoints: anyResCandidates(336),
  imageNewline: true,
};
const withoutNewline: EncoderSpec = { ...llava16, imageNewline: false };

const budget = async (width: number, height: number, spec: EncoderSpec): Promise<number> =>
  planTokens(planImage({ width, height }, spec, 'high'), estimateTokenCounter(spec));

describe('unpad_image', () => {
  it('keeps a map whose aspect matches the image', () => {
    expect(unpaddedMap({ width: 672, height: 672 }, 48, 48)).toEqual({ rows: 48, cols: 48 });
  });

  it('cuts rows off a wide image: 600 x 400 on 48 x 48 -> new height 32, padding 8', () => {
    expect(unpaddedMap({ width: 600, height: 400 }, 48, 48)).toEqual({ rows: 32, cols: 48 });
  });

  it('cuts columns off a tall image: 252 x 1008 on 72 x 24 -> new width 18, padding 3', () => {
    expect(unpaddedMap({ width: 252, height: 1008 }, 72, 24)).toEqual({ rows: 72, cols: 18 });
  });

  it('keeps one row more when the difference is odd: 84 x 70 on 6 x 6 -> new 5, padding 0', () => {
    expect(unpaddedMap({ width: 84, height: 70 }, 6, 6)).toEqual({ rows: 6, cols: 6 });
  });
});

describe('LLaVA-1.6 token budget (packed as the reference packs it)', () => {
  it('672 x 672 -> 576 + 48 * 48 + 48 = 2928 (libmtmd unpatched: 5 x 576 = 2880)', async () => {
    expect(await budget(672, 672, llava16)).toBe(2928);
    expect(llavaNextTokens({ width: 672, height: 672 }, llava16)).toBe(2928);
  });

  it('without v.image_newline no row separators: 672 x 672 -> 576 + 2304 = 2880', async () => {
    expect(await budget(672, 672, withoutNewline)).toBe(2880);
  });

  it('1200 x 800, handed over as 673 x 449 on 2 x 2 tiles -> 576 + 32 * 48 + 32 = 2144', async () => {
    // the app scales by 672 / 1200 (1200 * that is 672.0000000000001 in float64, ceil 673);
    // unpad: 449 * 48 / 673 = 32.02 -> 32 rows kept, padding (48 - 32) / 2 = 8
    const plan = planImage({ width: 1200, height: 800 }, llava16, 'high');
    expect(plan.bitmaps).toEqual([{ kind: 'whole', size: [673, 449] }]);
    expect(plan.grid).toEqual({ cols: 2, rows: 2 });
    expect(await budget(1200, 800, llava16)).toBe(2144);
    expect(await budget(1200, 800, withoutNewline)).toBe(576 + 32 * 48);
  });

  it('300 x 1200, handed over as 252 x 1008 on 1 x 3 tiles -> 576 + 72 * 18 + 72 = 1944', async () => {
    const plan = planImage({ width: 300, height: 1200 }, llava16, 'high');
    expect(plan.bitmaps).toEqual([{ kind: 'whole', size: [252, 1008] }]);
    expect(plan.grid).toEqual({ cols: 1, rows: 3 });
    expect(await budget(300, 1200, llava16)).toBe(1944);
  });

  it('1000 x 500 -> 672 x 336 on 2 x 1 tiles, nothing to unpad: 576 + 24 * 48 + 24 = 1752', async () => {
    expect(await budget(1000, 500, llava16)).toBe(1752);
  });

  it('an image no larger than one tile is not tiled: 576', async () => {
    expect(await budget(300, 200, llava16)).toBe(576);
  });

  it('standard detail stays one padded square: 576', async () => {
    const plan = planImage({ width: 4000, height: 3000 }, llava16, 'standard');
    expect(await planTokens(plan, estimateTokenCounter(llava16))).toBe(576);
  });

  it('other projectors with pinpoints keep one encoder image per tile plus the overview', async () => {
    const ldp: EncoderSpec = { ...llava16, projectorType: 'ldp' };
    const plan = planImage({ width: 672, height: 672 }, ldp, 'high');
    expect(await planTokens(plan, estimateTokenCounter(ldp))).toBe(5 * 576);
  });

  it('the 42 px pair of the vision-parity test: 84 x 56 -> 9 + 4 * 6 + 4 = 37', () => {
    const tiny: EncoderSpec = { ...llava16, imageSize: 42, gridPinpoints: anyResCandidates(42) };
    expect(llavaNextTokens({ width: 84, height: 56 }, tiny)).toBe(37);
    expect(llavaNextTokens({ width: 14, height: 84 }, tiny)).toBe(21);
    expect(llavaNextTokens({ width: 84, height: 84 }, tiny)).toBe(51);
  });
});
