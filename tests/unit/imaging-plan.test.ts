import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LLAVA_15_ENCODER,
  estimateTokenCounter,
  planImage,
  planTokens,
  selectBestResolution,
  type EncoderSpec,
  type ImagePlan,
  type PlannedBitmap,
  type Resolution,
} from '../../src-main/imaging/index.js';

/*
 * A second, deliberately plain transcription of LLaVA's reference rules (llava/mm_utils.py), kept
 * apart from src-main/imaging/plan.ts: the planner is checked against it on random sizes.
 */
const reference = {
  /** select_best_resolution: score every candidate, sort, take the first (ties keep list order). */
  bestResolution(w: number, h: number, candidates: readonly Resolution[]): Resolution {
    const scored = candidates.map(([cw, ch], index) => {
      const scale = Math.min(cw / w, ch / h);
      const downscaledW = Math.trunc(w * scale);
      const downscaledH = Math.trunc(h * scale);
      const effective = Math.min(downscaledW * downscaledH, w * h);
      return { candidate: [cw, ch] as Resolution, effective, wasted: cw * ch - effective, index };
    });
    scored.sort((a, b) => b.effective - a.effective || a.wasted - b.wasted || a.index - b.index);
    const first = scored[0];
    if (!first) throw new Error('no candidates');
    return first.candidate;
  },

  /** resize_and_pad_image: the new size and the paste position. */
  resizeAndPad(w: number, h: number, [tw, th]: Resolution) {
    const scaleW = tw / w;
    const scaleH = th / h;
    let newW: number;
    let newH: number;
    if (scaleW < scaleH) {
      newW = tw;
      newH = Math.min(Math.ceil(h * scaleW), th);
    } else {
      newH = th;
      newW = Math.min(Math.ceil(w * scaleH), tw);
    }
    return { newW, newH, pasteX: Math.floor((tw - newW) / 2), pasteY: Math.floor((th - newH) / 2) };
  },

  /** divide_to_patches: top-left corners, row-major. */
  tileOrigins([tw, th]: Resolution, side: number): Resolution[] {
    const origins: Resolution[] = [];
    for (let y = 0; y < th; y += side) for (let x = 0; x < tw; x += side) origins.push([x, y]);
    return origins;
  },

  /** expand2square: where the image is pasted on the square. */
  squareOffset(w: number, h: number): Resolution {
    if (w === h) return [0, 0];
    return w > h ? [0, Math.floor((w - h) / 2)] : [Math.floor((h - w) / 2), 0];
  },

  candidates(side: number): Resolution[] {
    return [
      [side, 2 * side],
      [2 * side, side],
      [2 * side, 2 * side],
      [3 * side, side],
      [side, 3 * side],
    ];
  },
};

const sizes = fc.record({
  width: fc.integer({ min: 1, max: 12_000 }),
  height: fc.integer({ min: 1, max: 12_000 }),
});
const resolution = fc.tuple(
  fc.integer({ min: 14, max: 2_000 }),
  fc.integer({ min: 14, max: 2_000 }),
);
const encoders = fc
  .constantFrom(224, 336, 384, 448)
  .map((imageSize): EncoderSpec => ({ ...LLAVA_15_ENCODER, imageSize }));

function tiles(plan: ImagePlan): Extract<PlannedBitmap, { kind: 'tile' }>[] {
  return plan.bitmaps.filter(
    (b): b is Extract<PlannedBitmap, { kind: 'tile' }> => b.kind === 'tile',
  );
}

describe('the planner against the reference rules (property tests)', () => {
  it('selectBestResolution picks what the reference picks, for any candidates', () => {
    fc.assert(
      fc.property(
        sizes,
        fc.array(resolution, { minLength: 1, maxLength: 8 }),
        (size, candidates) => {
          expect(selectBestResolution(size, candidates)).toEqual(
            reference.bestResolution(size.width, size.height, candidates),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('standard: one square at the encoder size, the image centred as expand2square does', () => {
    fc.assert(
      fc.property(sizes, encoders, (size, spec) => {
        const plan = planImage(size, spec, 'standard');
        const side = spec.imageSize;
        expect(plan.grid).toEqual({ cols: 1, rows: 1 });
        expect(plan.resolution).toEqual([side, side]);
        expect(plan.bitmaps).toEqual([
          {
            kind: 'padded-square',
            size: [side, side],
            square: Math.max(size.width, size.height),
            offset: reference.squareOffset(size.width, size.height),
          },
        ]);
      }),
    );
  });

  it('high without pinpoints: global view first, then the reference tiles row-major', () => {
    fc.assert(
      fc.property(sizes, encoders, (size, spec) => {
        const side = spec.imageSize;
        const plan = planImage(size, spec, 'high');
        if (size.width <= side && size.height <= side) {
          expect(plan.bitmaps.map((b) => b.kind)).toEqual(['padded-square']);
          return;
        }
        const best = reference.bestResolution(size.width, size.height, reference.candidates(side));
        const fit = reference.resizeAndPad(size.width, size.height, best);
        expect(plan.tiling).toBe('app');
        expect(plan.resolution).toEqual(best);
        expect(plan.grid).toEqual({ cols: best[0] / side, rows: best[1] / side });
        expect(plan.bitmaps[0]).toEqual({ kind: 'global-view', size: [side, side] });
        const planned = tiles(plan);
        expect(planned.map((t) => t.origin)).toEqual(reference.tileOrigins(best, side));
        for (const tile of planned) {
          expect(tile.size).toEqual([side, side]);
          expect(tile.fitted).toEqual([fit.newW, fit.newH]);
          expect(tile.offset).toEqual([fit.pasteX, fit.pasteY]);
        }
        expect(plan.encoderImages).toBe(1 + planned.length);
      }),
      { numRuns: 500 },
    );
  });

  it('high with pinpoints: one smaller image, for which the runtime picks the same grid', () => {
    const llava16: EncoderSpec = { ...LLAVA_15_ENCODER, gridPinpoints: reference.candidates(336) };
    fc.assert(
      fc.property(sizes, (size) => {
        const plan = planImage(size, llava16, 'high');
        expect(plan.tiling).toBe('runtime');
        expect(plan.bitmaps).toHaveLength(1);
        const [sent] = plan.bitmaps;
        if (sent?.kind !== 'whole') throw new Error('expected one whole image');
        const [w, h] = sent.size;
        expect(w).toBeLessThanOrEqual(size.width);
        expect(h).toBeLessThanOrEqual(size.height);
        if (size.width <= 336 && size.height <= 336) {
          expect(plan.encoderImages).toBe(1);
          return;
        }
        const best = reference.bestResolution(size.width, size.height, llava16.gridPinpoints);
        expect(Math.max(w, h)).toBeGreaterThan(336);
        expect(reference.bestResolution(w, h, llava16.gridPinpoints)).toEqual(best);
        expect(plan.resolution).toEqual(best);
        expect(plan.encoderImages).toBe(1 + (best[0] / 336) * (best[1] / 336));
      }),
      { numRuns: 1000 },
    );
  });

  it('counts (image_size / patch_size)^2 tokens per encoder image for MLP projectors', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes,
        encoders,
        fc.constantFrom('standard', 'high'),
        async (size, spec, detail) => {
          const plan = planImage(size, spec, detail);
          const perImage = Math.floor(spec.imageSize / spec.patchSize) ** 2;
          expect(await planTokens(plan, estimateTokenCounter(spec))).toBe(
            plan.encoderImages * perImage,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the planner on known cases', () => {
  it('LLaVA-1.5 standard: 576 tokens whatever the size', async () => {
    const plan = planImage({ width: 4000, height: 3000 }, LLAVA_15_ENCODER, 'standard');
    expect(await planTokens(plan, estimateTokenCounter(LLAVA_15_ENCODER))).toBe(576);
  });

  it.each([
    [672, 672, [672, 672], 5],
    [600, 400, [672, 672], 5],
    [1000, 500, [672, 336], 3],
    [1000, 400, [1008, 336], 4],
    [300, 1200, [336, 1008], 4],
    [300, 600, [336, 672], 3],
    [500, 900, [672, 672], 5],
  ])('high %i x %i -> %j, %i encoder images', (width, height, best, images) => {
    const plan = planImage({ width, height }, LLAVA_15_ENCODER, 'high');
    expect(plan.resolution).toEqual(best);
    expect(plan.encoderImages).toBe(images);
  });

  it('LLaVA-1.6 packed as the reference packs it: 672 x 672 -> 576 + 48 * 48 + 48 = 2928 tokens', async () => {
    const llava16: EncoderSpec = {
      ...LLAVA_15_ENCODER,
      gridPinpoints: reference.candidates(336),
      imageNewline: true,
    };
    const plan = planImage({ width: 672, height: 672 }, llava16, 'high');
    expect(await planTokens(plan, estimateTokenCounter(llava16))).toBe(2928);
  });

  it('takes an injected TokenCounter', async () => {
    const plan = planImage({ width: 1000, height: 500 }, LLAVA_15_ENCODER, 'high');
    const counter = { exact: true, countImageTokens: () => Promise.resolve(7) };
    expect(await planTokens(plan, counter)).toBe(21);
  });

  it('refuses an empty size', () => {
    expect(() => planImage({ width: 0, height: 10 }, LLAVA_15_ENCODER, 'high')).toThrow(RangeError);
  });
});
