import type { EncoderSpec } from './encoder-spec.js';
import { runtimeTiling, type ImagePlan } from './plan.js';
import type { Size } from './size.js';

/**
 * Counts the tokens the runtime spends on one bitmap handed to it as it is. The engine's native
 * bridge supplies the runtime's own count (mtmd tokenisation of a bitmap of that size); until
 * then, and for tests, `estimateTokenCounter` follows libmtmd's rules.
 */
export interface TokenCounter {
  /** True when the count is the runtime's own, false for an estimate. */
  readonly exact: boolean;
  countImageTokens(size: Size): number | Promise<number>;
}

/**
 * Tokens per encoder image. LLaVA's MLP projectors emit one token per patch:
 * (image_size / patch_size)^2, 576 at 336/14 (exact for libmtmd). Other projectors pool or merge
 * in their own ways; for them the patch count is only an estimate, to be replaced by a
 * TokenCounter that asks the runtime.
 */
export function tokensPerEncoderImage(spec: EncoderSpec): { tokens: number; exact: boolean } {
  const side = Math.floor(spec.imageSize / spec.patchSize);
  const exact = spec.projectorType === 'mlp' || spec.projectorType === 'mlp_norm';
  return { tokens: side * side, exact };
}

/** Rows and columns of a feature map kept by LLaVA-NeXT's `unpad_image`. */
export interface UnpaddedMap {
  rows: number;
  cols: number;
}

/**
 * LLaVA-NeXT's `unpad_image` on a (rows x cols) feature map of an image of `original` size: the
 * padding `resize_and_pad` added is cut off symmetrically. The same float arithmetic as the
 * reference: compare aspect ratios, scale the other side with int() truncation, padding =
 * (current - new) // 2 removed at both ends (so an odd difference keeps one row more).
 */
export function unpaddedMap(original: Size, rows: number, cols: number): UnpaddedMap {
  const originalAspect = original.width / original.height;
  const currentAspect = cols / rows;
  if (originalAspect > currentAspect) {
    const newHeight = Math.trunc(original.height * (cols / original.width));
    return { rows: rows - 2 * Math.floor((rows - newHeight) / 2), cols };
  }
  const newWidth = Math.trunc(original.width * (rows / original.height));
  return { rows, cols: cols - 2 * Math.floor((cols - newWidth) / 2) };
}

/**
 * Tokens LLaVA-1.6 (an MLP projector with pinpoints) feeds the LLM for one bitmap, as LLaVA-NeXT's
 * `pack_image_features` counts them and llava-desk's patched libmtmd emits them
 * (docs/UPSTREAM.md): the overview's g x g, the tiles' (rows*g) x (cols*g) map unpadded from the
 * bitmap's size (the size handed to the runtime is the reference's "original" size), and one
 * `image_newline` per kept row when the file has one. 672 x 672 at 336/14: 576 + 48 * 48 + 48 =
 * 2928. A bitmap no larger than one tile is not tiled (the runtime's rule): g x g.
 */
export function llavaNextTokens(size: Size, spec: EncoderSpec): number {
  const side = Math.floor(spec.imageSize / spec.patchSize);
  const tiling = runtimeTiling(size, spec);
  if (tiling.encoderImages === 1) return side * side;
  const map = unpaddedMap(size, tiling.rows * side, tiling.cols * side);
  return side * side + map.rows * map.cols + (spec.imageNewline ? map.rows : 0);
}

/**
 * libmtmd's count (with llava-desk's patches) for LLaVA-style projectors; a patch-count estimate
 * for others. LLaVA-1.6 MLP files are packed as the reference packs them; other projectors with
 * pinpoints get one encoder image's tokens per tile plus the overview.
 */
export function estimateTokenCounter(spec: EncoderSpec): TokenCounter {
  const perImage = tokensPerEncoderImage(spec);
  const pinpoints = spec.gridPinpoints.length > 0;
  const packed = pinpoints && spec.projectorType === 'mlp';
  return {
    exact: perImage.exact,
    countImageTokens(size: Size): number {
      if (packed) return llavaNextTokens(size, spec);
      const images = pinpoints ? runtimeTiling(size, spec).encoderImages : 1;
      return images * perImage.tokens;
    },
  };
}

/** The token budget of a plan: each bitmap counted as the runtime will count it. */
export async function planTokens(plan: ImagePlan, counter: TokenCounter): Promise<number> {
  let total = 0;
  for (const bitmap of plan.bitmaps) {
    const [width, height] = bitmap.size;
    total += await counter.countImageTokens({ width, height });
  }
  return total;
}
