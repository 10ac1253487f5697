import type { Resolution } from './size.js';

/** What the planner needs to know about a vision encoder (an mmproj). */
export interface EncoderSpec {
  /** `clip.vision.image_size`: side of the square the encoder sees (336 for LLaVA-1.5). */
  imageSize: number;
  /** `clip.vision.patch_size` (14 for CLIP ViT-L/14). */
  patchSize: number;
  /** `clip.projector_type` ('mlp' for LLaVA-1.5 and 1.6). */
  projectorType: string;
  /**
   * `clip.vision.image_grid_pinpoints` as [width, height] pairs. Non-empty (LLaVA-1.6) means the
   * runtime tiles by itself; empty (LLaVA-1.5) means the app tiles for `high` detail.
   */
  gridPinpoints: readonly Resolution[];
  /**
   * The mmproj carries `v.image_newline` (LLaVA-1.6): the runtime appends it after each row of the
   * tiles' unpadded feature map. Only read for files with pinpoints; absent means none.
   */
  imageNewline?: boolean;
  /** `clip.vision.image_mean` (0-1 per channel); the pad colour is derived from it. */
  imageMean?: readonly [number, number, number];
}

/** CLIP's mean, as LLaVA's `expand2square` uses it: `int(x * 255)` of each channel. */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];

/** LLaVA-1.5 with CLIP ViT-L/14 at 336 px: the encoder the app plans for without an mmproj. */
export const LLAVA_15_ENCODER: EncoderSpec = {
  imageSize: 336,
  patchSize: 14,
  projectorType: 'mlp',
  gridPinpoints: [],
  imageMean: CLIP_MEAN,
};

/** LLaVA-1.6's default grids (1x2, 2x1, 2x2, 3x1, 1x3 tiles), as multiples of the tile side. */
const LLAVA_16_GRIDS: readonly Resolution[] = [
  [1, 2],
  [2, 1],
  [2, 2],
  [3, 1],
  [1, 3],
];

/** The LLaVA-1.6 candidate resolutions for a tile side (336 -> 336x672, 672x336, ...). */
export function anyResCandidates(tileSize: number): Resolution[] {
  return LLAVA_16_GRIDS.map(([cols, rows]) => [cols * tileSize, rows * tileSize] as const);
}

/** The colour `expand2square` and `resize_and_pad` fill with: the encoder's mean colour. */
export function padColour(spec: EncoderSpec): readonly [number, number, number] {
  const mean = spec.imageMean ?? CLIP_MEAN;
  return [Math.trunc(mean[0] * 255), Math.trunc(mean[1] * 255), Math.trunc(mean[2] * 255)];
}
