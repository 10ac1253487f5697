// Test tooling, never used by the app: LLaVA-1.6's (LLaVA-NeXT's) AnyRes image features as the
// reference computes them, on top of the float64 CLIP + projector in clip-reference.ts.
//
// Follows LLaVA-NeXT (`llava/mm_utils.py`, `llava/model/llava_arch.py`, mm_patch_merge_type
// "spatial_unpad", image_aspect_ratio "anyres"):
//   - select_best_resolution over the file's `clip.vision.image_grid_pinpoints`;
//   - resize_and_pad_image: fit inside the chosen resolution keeping the aspect (ceil on the
//     scaled side, capped), Pillow's resize, pasted centred on BLACK;
//   - divide_to_patches: image_size tiles, row-major; the overview is the whole image resized
//     (squashed, not padded) to image_size x image_size, and comes FIRST;
//   - each image through the CLIP tower and projector (clip-reference.ts);
//   - pack_image_features: the tiles' features laid back into one (rows*g) x (cols*g) map,
//     unpad_image from the original size, image_newline after each row, the overview's features
//     in front.
// Resizing is Pillow's (ImagingResample, bicubic a = -0.5, 22-bit fixed-point weights, horizontal
// pass then vertical), which LLaVA-NeXT calls through PIL and libmtmd ports (mtmd-image.cpp
// resize_pillow); resizing to the same size is a copy on both sides.

import { readGgufValues } from '../../src-main/models/gguf/read-values.js';
import type { LlavaReference, ReferenceEmbeddings, ReferenceOptions } from './clip-reference.js';

export interface Rgb8 {
  readonly width: number;
  readonly height: number;
  /** RGB, 3 bytes per pixel, row-major. */
  readonly data: Uint8Array;
}

export type Pinpoint = readonly [width: number, height: number];

export interface AnyResEmbeddings extends ReferenceEmbeddings {
  /** Tiles per row and rows of tiles. */
  readonly grid: { readonly cols: number; readonly rows: number };
  /** The unpadded feature map (before newlines): rows x cols of tokens. */
  readonly unpadded: { readonly rows: number; readonly cols: number };
  readonly newline: boolean;
}

/** The file's `clip.vision.image_grid_pinpoints` as [width, height] pairs. */
export async function readPinpoints(mmprojPath: string): Promise<Pinpoint[]> {
  const key = 'clip.vision.image_grid_pinpoints';
  const v = (await readGgufValues(mmprojPath, new Set([key]))).get(key);
  if (!Array.isArray(v) || v.length % 2 !== 0) throw new Error(`${mmprojPath}: no ${key}`);
  const out: Pinpoint[] = [];
  for (let i = 0; i < v.length; i += 2) out.push([Number(v[i]), Number(v[i + 1])]);
  return out;
}

/** llava/mm_utils.py select_best_resolution, in Python's float arithmetic. */
export function selectBestResolution(
  width: number,
  height: number,
  candidates: readonly Pinpoint[],
): Pinpoint {
  let best: Pinpoint | undefined;
  let maxEffective = 0;
  let minWasted = Infinity;
  for (const [cw, ch] of candidates) {
    const scale = Math.min(cw / width, ch / height);
    const dw = Math.trunc(width * scale);
    const dh = Math.trunc(height * scale);
    const effective = Math.min(dw * dh, width * height);
    const wasted = cw * ch - effective;
    if (effective > maxEffective || (effective === maxEffective && wasted < minWasted)) {
      maxEffective = effective;
      minWasted = wasted;
      best = [cw, ch];
    }
  }
  if (!best) throw new Error('no candidate resolutions');
  return best;
}

/** Pillow's bicubic filter (a = -0.5). */
function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis. */
function coefficients(
  inSize: number,
  outSize: number,
): { bounds: Int32Array; weights: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xcnt = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    pre.fill(0);
    for (let x = 0; x < xcnt; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xcnt && ww !== 0 ? (pre[x] ?? 0) / ww : 0;
      // Pillow adds +/- 0.5 and truncates toward zero
      weights[xx * ksize + x] = Math.trunc(w * 2 ** PRECISION_BITS + (w < 0 ? -0.5 : 0.5));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xcnt;
  }
  return { bounds, weights, ksize };
}

const clip8 = (acc: number): number =>
  Math.min(255, Math.max(0, Math.floor(acc / 2 ** PRECISION_BITS)));

/** PIL `Image.resize((width, height))` of an RGB image (bicubic, Pillow's default). */
export function pillowResize(src: Rgb8, width: number, height: number): Rgb8 {
  let cur = src;
  if (width !== cur.width) {
    const { bounds, weights, ksize } = coefficients(cur.width, width);
    const out = new Uint8Array(width * cur.height * 3);
    for (let y = 0; y < cur.height; y++) {
      for (let xx = 0; xx < width; xx++) {
        const xmin = bounds[xx * 2] ?? 0;
        const xcnt = bounds[xx * 2 + 1] ?? 0;
        for (let c = 0; c < 3; c++) {
          let acc = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < xcnt; x++) {
            acc +=
              (cur.data[(y * cur.width + xmin + x) * 3 + c] ?? 0) * (weights[xx * ksize + x] ?? 0);
          }
          out[(y * width + xx) * 3 + c] = clip8(acc);
        }
      }
    }
    cur = { width, height: cur.height, data: out };
  }
  if (height !== cur.height) {
    const { bounds, weights, ksize } = coefficients(cur.height, height);
    const out = new Uint8Array(cur.width * height * 3);
    for (let yy = 0; yy < height; yy++) {
      const ymin = bounds[yy * 2] ?? 0;
      const ycnt = bounds[yy * 2 + 1] ?? 0;
      for (let i = 0; i < cur.width * 3; i++) {
        let acc = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < ycnt; y++) {
          acc += (cur.data[(ymin + y) * cur.width * 3 + i] ?? 0) * (weights[yy * ksize + y] ?? 0);
        }
        out[yy * cur.width * 3 + i] = clip8(acc);
      }
    }
    cur = { width: cur.width, height, data: out };
  }
  return cur === src ? { width, height, data: src.data.slice() } : cur;
}

/** llava/mm_utils.py resize_and_pad_image: fitted, centred on black. */
export function resizeAndPad(image: Rgb8, [tw, th]: Pinpoint): Rgb8 {
  const scaleW = tw / image.width;
  const scaleH = th / image.height;
  let nw: number;
  let nh: number;
  if (scaleW < scaleH) {
    nw = tw;
    nh = Math.min(Math.ceil(image.height * scaleW), th);
  } else {
    nh = th;
    nw = Math.min(Math.ceil(image.width * scaleH), tw);
  }
  const resized = pillowResize(image, nw, nh);
  const out = new Uint8Array(tw * th * 3); // black
  const px = Math.floor((tw - nw) / 2);
  const py = Math.floor((th - nh) / 2);
  for (let y = 0; y < nh; y++) {
    out.set(resized.data.subarray(y * nw * 3, (y + 1) * nw * 3), ((py + y) * tw + px) * 3);
  }
  return { width: tw, height: th, data: out };
}

function crop(image: Rgb8, x0: number, y0: number, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((y0 + y) * image.width + x0) * 3;
    out.set(image.data.subarray(from, from + size * 3), y * size * 3);
  }
  return out;
}

/**
 * llava_arch.py unpad_image on a (rows x cols) map for an image of the original size: the rows
 * (or columns) kept, [start, start + count).
 */
export function unpadRange(
  originalWidth: number,
  originalHeight: number,
  rows: number,
  cols: number,
): { row0: number; rows: number; col0: number; cols: number } {
  const originalAspect = originalWidth / originalHeight;
  const currentAspect = cols / rows;
  if (originalAspect > currentAspect) {
    const scale = cols / originalWidth;
    const newHeight = Math.trunc(originalHeight * scale);
    const padding = Math.floor((rows - newHeight) / 2);
    return { row0: padding, rows: rows - 2 * padding, col0: 0, cols };
  }
  const scale = rows / originalHeight;
  const newWidth = Math.trunc(originalWidth * scale);
  const padding = Math.floor((cols - newWidth) / 2);
  return { row0: 0, rows, col0: padding, cols: cols - 2 * padding };
}

/**
 * LLaVA-NeXT's image features for an RGB image of any size larger than one tile: the overview's
 * tokens, then the unpadded tile map row by row, each row followed by image_newline (when the
 * file has one).
 */
export function embedAnyRes(
  reference: LlavaReference,
  image: Rgb8,
  pinpoints: readonly Pinpoint[],
  options: ReferenceOptions = {},
): AnyResEmbeddings {
  const side = reference.config.imageSize;
  const g = side / reference.config.patchSize;
  const at = { width: side, height: side };
  const resolution = selectBestResolution(image.width, image.height, pinpoints);
  const padded = resizeAndPad(image, resolution);
  const cols = resolution[0] / side;
  const rows = resolution[1] / side;

  const overview = reference.embed(pillowResize(image, side, side).data, at, options);
  const width = overview.width;
  const tiles: ReferenceEmbeddings[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      tiles.push(reference.embed(crop(padded, c * side, r * side, side), at, options));
    }
  }

  const keep = unpadRange(image.width, image.height, rows * g, cols * g);
  const newline = reference.imageNewline();
  if (newline && newline.length !== width) {
    throw new Error(`image_newline has ${newline.length} values, the projector ${width}`);
  }
  const tokens = g * g + keep.rows * keep.cols + (newline ? keep.rows : 0);
  const data = new Float64Array(tokens * width);
  data.set(overview.data, 0);
  let at0 = g * g * width;
  for (let y = keep.row0; y < keep.row0 + keep.rows; y++) {
    for (let x = keep.col0; x < keep.col0 + keep.cols; x++) {
      const tile = tiles[Math.floor(y / g) * cols + Math.floor(x / g)];
      if (!tile) throw new Error('tile out of range');
      const row = (y % g) * g + (x % g);
      data.set(tile.data.subarray(row * width, (row + 1) * width), at0);
      at0 += width;
    }
    if (newline) {
      data.set(newline, at0);
      at0 += width;
    }
  }
  return {
    tokens,
    width,
    data,
    grid: { cols, rows },
    unpadded: { rows: keep.rows, cols: keep.cols },
    newline: newline !== undefined,
  };
}
