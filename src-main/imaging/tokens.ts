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

/** libmtmd's count for LLaVA-style projectors; a patch-count estimate for others. */
export function estimateTokenCounter(spec: EncoderSpec): TokenCounter {
  const perImage = tokensPerEncoderImage(spec);
  const pinpoints = spec.gridPinpoints.length > 0;
  return {
    exact: perImage.exact,
    countImageTokens(size: Size): number {
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
