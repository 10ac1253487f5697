import sharp, { type Sharp } from 'sharp';
import type { PlannedBitmap } from './plan.js';
import type { Resolution, RgbBitmap } from './size.js';

/*
 * Turns a plan into pixels with sharp. Resizes are bicubic (Catmull-Rom, a = -0.5, the kernel of
 * Pillow's BICUBIC that LLaVA's reference and libmtmd's resize_pillow use). The source may be a
 * working copy smaller than the original; geometry is then taken from the copy's own size.
 */

type Rgb = readonly [number, number, number];

function raw(bitmap: RgbBitmap): Sharp {
  const { width, height, data } = bitmap;
  return sharp(data, { raw: { width, height, channels: 3 } });
}

async function toBitmap(pipeline: Sharp): Promise<RgbBitmap> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

async function resized(source: RgbBitmap, [width, height]: Resolution): Promise<RgbBitmap> {
  if (source.width === width && source.height === height) return source;
  return toBitmap(raw(source).resize(width, height, { fit: 'fill', kernel: 'cubic' }));
}

/**
 * The source laid onto a canvas of the pad colour. Plain row copies: a libvips pipeline for this
 * costs a round trip through the thread pool and two more copies of the pixels.
 */
function padded(
  source: RgbBitmap,
  [width, height]: Resolution,
  [left, top]: Resolution,
  [r, g, b]: Rgb,
): RgbBitmap {
  if (source.width === width && source.height === height) return source;
  if (left < 0 || top < 0 || left + source.width > width || top + source.height > height) {
    throw new RangeError(
      `a ${source.width} x ${source.height} image does not fit ${width} x ${height} at ${left},${top}`,
    );
  }
  const data = Buffer.alloc(width * height * 3, Buffer.from([r, g, b]));
  const row = source.width * 3;
  for (let y = 0; y < source.height; y++) {
    const from = y * row;
    source.data.copy(data, ((top + y) * width + left) * 3, from, from + row);
  }
  return { width, height, data };
}

/** LLaVA's `expand2square` then a resize to the encoder size. */
export async function renderPaddedSquare(
  source: RgbBitmap,
  size: Resolution,
  pad: Rgb,
): Promise<RgbBitmap> {
  const square = Math.max(source.width, source.height);
  const offset: Resolution = [(square - source.width) >> 1, (square - source.height) >> 1];
  return resized(padded(source, [square, square], offset, pad), size);
}

/** `resize_and_pad_image` onto the candidate canvas. */
export async function renderCanvas(
  source: RgbBitmap,
  canvas: Resolution,
  fitted: Resolution,
  offset: Resolution,
  pad: Rgb,
): Promise<RgbBitmap> {
  return padded(await resized(source, fitted), canvas, offset, pad);
}

export function cropTile(canvas: RgbBitmap, [x, y]: Resolution, [w, h]: Resolution): RgbBitmap {
  const data = Buffer.alloc(w * h * 3);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * canvas.width + x) * 3;
    canvas.data.copy(data, row * w * 3, from, from + w * 3);
  }
  return { width: w, height: h, data };
}

/** The bitmaps of a plan, in order. The canvas of app tiling is built once for all tiles. */
export async function renderBitmaps(
  source: RgbBitmap,
  bitmaps: readonly PlannedBitmap[],
  pad: Rgb,
): Promise<RgbBitmap[]> {
  const out: RgbBitmap[] = [];
  let canvas: RgbBitmap | undefined;
  for (const bitmap of bitmaps) {
    switch (bitmap.kind) {
      case 'padded-square':
        out.push(await renderPaddedSquare(source, bitmap.size, pad));
        break;
      case 'global-view':
      case 'whole':
        out.push(await resized(source, bitmap.size));
        break;
      case 'tile':
        canvas ??= await renderCanvas(source, bitmap.canvas, bitmap.fitted, bitmap.offset, pad);
        out.push(cropTile(canvas, bitmap.origin, bitmap.size));
        break;
    }
  }
  return out;
}
