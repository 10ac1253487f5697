import { anyResCandidates, type EncoderSpec } from './encoder-spec.js';
import type { Resolution, Size } from './size.js';

/*
 * The geometry of what the encoder will be handed, as pure arithmetic on the upright size.
 * Follows LLaVA's reference (`llava/mm_utils.py`): `expand2square`, `select_best_resolution`,
 * `resize_and_pad_image`, tiles row-major after a squashed global view.
 */

export type Detail = 'standard' | 'high';

/** Who cuts tiles: nobody (one square), the app (LLaVA-1.5), the runtime (LLaVA-1.6 pinpoints). */
export type Tiling = 'none' | 'app' | 'runtime';

export type PlannedBitmap =
  /** `expand2square` with the pad colour, then resized to the encoder size. */
  | { kind: 'padded-square'; size: Resolution; square: number; offset: Resolution }
  /** The whole image squashed (not padded) to the encoder size: AnyRes's global view. */
  | { kind: 'global-view'; size: Resolution }
  /** One tile of the image fitted (`resize_and_pad`) into `canvas`, cut at `origin`. */
  | {
      kind: 'tile';
      size: Resolution;
      canvas: Resolution;
      fitted: Resolution;
      offset: Resolution;
      origin: Resolution;
      column: number;
      row: number;
    }
  /** The upright image scaled (aspect kept) to `size`; the runtime cuts it itself. */
  | { kind: 'whole'; size: Resolution };

export interface ImagePlan {
  detail: Detail;
  tiling: Tiling;
  /** Upright size of the source the plan was made for. */
  source: Size;
  grid: { cols: number; rows: number };
  /** The chosen candidate resolution; the encoder size when nothing is tiled. */
  resolution: Resolution;
  /** Bitmaps handed to the runtime, in order (global view first when the app tiles). */
  bitmaps: PlannedBitmap[];
  /** Images the encoder runs on: the bitmaps, or for runtime tiling the runtime's own count. */
  encoderImages: number;
}

/** Reference `select_best_resolution`: largest effective resolution, then least waste. */
export function selectBestResolution(size: Size, candidates: readonly Resolution[]): Resolution {
  const { width, height } = size;
  let best: Resolution | undefined;
  let bestEffective = 0;
  let leastWasted = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const [cw, ch] = candidate;
    const scale = Math.min(cw / width, ch / height);
    const effective = Math.min(
      Math.trunc(width * scale) * Math.trunc(height * scale),
      width * height,
    );
    const wasted = cw * ch - effective;
    if (effective > bestEffective || (effective === bestEffective && wasted < leastWasted)) {
      best = candidate;
      bestEffective = effective;
      leastWasted = wasted;
    }
  }
  if (!best) throw new RangeError('selectBestResolution needs at least one candidate');
  return best;
}

/** Reference `resize_and_pad_image` sizing: the fitted size and where it sits on the canvas. */
export function fitIntoCanvas(
  size: Size,
  canvas: Resolution,
): { fitted: Resolution; offset: Resolution } {
  const [cw, ch] = canvas;
  const scaleW = cw / size.width;
  const scaleH = ch / size.height;
  const fitted: Resolution =
    scaleW < scaleH
      ? [cw, Math.min(Math.ceil(size.height * scaleW), ch)]
      : [Math.min(Math.ceil(size.width * scaleH), cw), ch];
  return { fitted, offset: [(cw - fitted[0]) >> 1, (ch - fitted[1]) >> 1] };
}

function paddedSquare(size: Size, encoderSize: number): PlannedBitmap {
  const square = Math.max(size.width, size.height);
  return {
    kind: 'padded-square',
    size: [encoderSize, encoderSize],
    square,
    offset: [(square - size.width) >> 1, (square - size.height) >> 1],
  };
}

function standardPlan(size: Size, spec: EncoderSpec, detail: Detail): ImagePlan {
  const side = spec.imageSize;
  return {
    detail,
    tiling: 'none',
    source: size,
    grid: { cols: 1, rows: 1 },
    resolution: [side, side],
    bitmaps: [paddedSquare(size, side)],
    encoderImages: 1,
  };
}

function fitsOneTile(size: Size, side: number): boolean {
  return size.width <= side && size.height <= side;
}

function appTiledPlan(size: Size, spec: EncoderSpec): ImagePlan {
  const side = spec.imageSize;
  const resolution = selectBestResolution(size, anyResCandidates(side));
  const { fitted, offset } = fitIntoCanvas(size, resolution);
  const cols = Math.ceil(resolution[0] / side);
  const rows = Math.ceil(resolution[1] / side);
  const bitmaps: PlannedBitmap[] = [{ kind: 'global-view', size: [side, side] }];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < cols; column++) {
      bitmaps.push({
        kind: 'tile',
        size: [side, side],
        canvas: resolution,
        fitted,
        offset,
        origin: [column * side, row * side],
        column,
        row,
      });
    }
  }
  return {
    detail: 'high',
    tiling: 'app',
    source: size,
    grid: { cols, rows },
    resolution,
    bitmaps,
    encoderImages: bitmaps.length,
  };
}

/**
 * The size to hand a runtime that tiles by pinpoints: the upright image scaled down as far as
 * possible while it still covers the best candidate, so the runtime's own resize is a small one
 * and its choice of grid is unchanged. Never enlarged.
 */
export function runtimeImageSize(size: Size, candidates: readonly Resolution[]): Size {
  const scale = Math.max(
    ...candidates.map(([cw, ch]) => Math.min(cw / size.width, ch / size.height)),
  );
  if (!(scale < 1)) return size;
  const scaled = {
    width: Math.max(1, Math.ceil(size.width * scale)),
    height: Math.max(1, Math.ceil(size.height * scale)),
  };
  const before = selectBestResolution(size, candidates);
  const after = selectBestResolution(scaled, candidates);
  return before[0] === after[0] && before[1] === after[1] ? scaled : size;
}

/** What a LLaVA-1.6 style runtime does with one bitmap: grid and encoder images. */
export function runtimeTiling(
  size: Size,
  spec: EncoderSpec,
): { resolution: Resolution; cols: number; rows: number; encoderImages: number } {
  const side = spec.imageSize;
  if (fitsOneTile(size, side))
    return { resolution: [side, side], cols: 1, rows: 1, encoderImages: 1 };
  const resolution = selectBestResolution(size, spec.gridPinpoints);
  const cols = Math.ceil(resolution[0] / side);
  const rows = Math.ceil(resolution[1] / side);
  return { resolution, cols, rows, encoderImages: 1 + cols * rows };
}

function runtimeTiledPlan(size: Size, spec: EncoderSpec): ImagePlan {
  const scaled = runtimeImageSize(size, spec.gridPinpoints);
  const side = spec.imageSize;
  // A pinpoint no larger than one tile could shrink the image into the untiled case.
  const sent = fitsOneTile(scaled, side) === fitsOneTile(size, side) ? scaled : size;
  const tiling = runtimeTiling(sent, spec);
  return {
    detail: 'high',
    tiling: 'runtime',
    source: size,
    grid: { cols: tiling.cols, rows: tiling.rows },
    resolution: tiling.resolution,
    bitmaps: [{ kind: 'whole', size: [sent.width, sent.height] }],
    encoderImages: tiling.encoderImages,
  };
}

/**
 * Plans an upright image for an encoder.
 * - standard: one padded square at the encoder size (also for LLaVA-1.6 encoders: a bitmap no
 *   larger than one tile is not tiled by the runtime).
 * - high with pinpoints (LLaVA-1.6): one size-limited image; the runtime tiles it.
 * - high without pinpoints (LLaVA-1.5): the app tiles over the LLaVA-1.6 candidates scaled to the
 *   encoder size. An image that fits in one tile is not tiled (the runtime's rule for 1.6): it
 *   gets the standard padded square instead of five upscaled crops.
 */
export function planImage(upright: Size, spec: EncoderSpec, detail: Detail): ImagePlan {
  // A plain copy: callers pass decoded images, whose pixels the plan must not hold on to.
  const size = { width: upright.width, height: upright.height };
  if (size.width <= 0 || size.height <= 0) throw new RangeError('planImage needs a non-empty size');
  if (detail === 'standard') return standardPlan(size, spec, detail);
  if (spec.gridPinpoints.length > 0) return runtimeTiledPlan(size, spec);
  if (fitsOneTile(size, spec.imageSize)) return standardPlan(size, spec, detail);
  return appTiledPlan(size, spec);
}
