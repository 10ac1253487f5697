import { decodeImage, type ImageInput } from './decode.js';
import type { DecodeOptions } from './decode-options.js';
import { LLAVA_15_ENCODER, padColour, type EncoderSpec } from './encoder-spec.js';
import type { ImageFormat } from './formats.js';
import { pixelHash, sourceSha256Async } from './hashes.js';
import type { ExifOrientation } from './orientation.js';
import { planImage, type Detail, type ImagePlan, type PlannedBitmap } from './plan.js';
import { renderBitmaps } from './render.js';
import { faultyPadColour, withImageFault } from './test-faults.js';
import type { RgbBitmap, Size } from './size.js';
import { makeThumbnail, THUMBNAIL_MAX_SIDE, type Thumbnail } from './thumbnail.js';
import { estimateTokenCounter, planTokens, type TokenCounter } from './tokens.js';

export interface PrepareOptions extends Omit<DecodeOptions, 'maxLongSide'> {
  /** Default 'standard'. */
  detail?: Detail;
  /** Default LLaVA-1.5 (336 px, patch 14, MLP, no pinpoints). */
  encoder?: EncoderSpec;
  /** Default: `estimateTokenCounter(encoder)`; the engine passes the runtime's own counter. */
  tokenCounter?: TokenCounter;
  /** Make a thumbnail too (prepareForEncoder only). Default true. */
  thumbnail?: boolean;
}

/** What is known about an image and its plan. */
export interface ImagePlanReport {
  name: string;
  format: ImageFormat;
  orientation: ExifOrientation;
  /** Upright size at full resolution. */
  width: number;
  height: number;
  hadAlpha: boolean;
  plan: ImagePlan;
  /** Token budget of the plan. */
  tokens: number;
  /** Whether `tokens` is the runtime's own count rather than an estimate. */
  tokensExact: boolean;
}

/** The plan of an image with the hash of its file: what `inspect-image` shows. */
export interface ImageReport extends ImagePlanReport {
  /** sha256 of the original bytes: the image store's key. */
  sourceSha256: string;
}

export interface PreparedBitmap extends RgbBitmap {
  kind: PlannedBitmap['kind'];
  /** sha256 of the pixels and their size: the engine cache's key. */
  pixelHash: string;
}

/**
 * No source hash here: the image store and batch jobs hash the file before they decide to
 * prepare it (`sourceSha256`), and answering a stored image already knows it.
 */
export interface PreparedImage extends ImagePlanReport {
  /** The bitmaps to hand the runtime, in order. */
  bitmaps: PreparedBitmap[];
  thumbnail?: Thumbnail;
}

/**
 * How large a working copy the plan needs: twice the largest target, so every later bicubic
 * resize is a real (antialiased) downscale and a 24 MP photo is never carried at full size (JPEG
 * and WebP shrink while decoding).
 */
function workingLongSide(plan: ImagePlan, spec: EncoderSpec): number {
  let side = THUMBNAIL_MAX_SIDE;
  for (const bitmap of plan.bitmaps) {
    if (bitmap.kind === 'whole') side = Math.max(side, ...bitmap.size);
    else if (bitmap.kind === 'tile') side = Math.max(side, 2 * Math.max(...bitmap.canvas));
    else side = Math.max(side, 2 * spec.imageSize);
  }
  return side;
}

async function report(
  input: ImageInput,
  decoded: { format: ImageFormat; orientation: ExifOrientation; hadAlpha: boolean } & Size,
  spec: EncoderSpec,
  options: PrepareOptions,
): Promise<ImagePlanReport> {
  const plan = planImage(decoded, spec, options.detail ?? 'standard');
  const counter = options.tokenCounter ?? estimateTokenCounter(spec);
  return {
    name: input.name,
    format: decoded.format,
    orientation: decoded.orientation,
    width: decoded.width,
    height: decoded.height,
    hadAlpha: decoded.hadAlpha,
    plan,
    tokens: await planTokens(plan, counter),
    tokensExact: counter.exact,
  };
}

/**
 * Decodes (fully, at a small size, so damage is found) and plans without rendering: what
 * `inspect-image` shows and what the UI needs for the token budget before sending.
 */
export async function planForEncoder(
  input: ImageInput,
  options: PrepareOptions = {},
): Promise<ImageReport> {
  const spec = options.encoder ?? LLAVA_15_ENCODER;
  const hashing = sourceSha256Async(input.bytes);
  const decoded = await decodeImage(input, { ...options, maxLongSide: THUMBNAIL_MAX_SIDE });
  const planned = await report(input, decoded, spec, options);
  return { ...planned, sourceSha256: await hashing };
}

/**
 * Everything the engine needs for one image: decoded, oriented, planned, rendered to the
 * bitmaps the runtime gets (each hashed for the embedding cache), with the token budget and a
 * thumbnail. The function a benchmark times against libmtmd's own loader.
 */
export async function prepareForEncoder(
  input: ImageInput,
  options: PrepareOptions = {},
): Promise<PreparedImage> {
  const spec = options.encoder ?? LLAVA_15_ENCODER;
  const detail = options.detail ?? 'standard';
  // The renders and the thumbnail run on the thread pool side by side.
  const decoded = await decodeImage(input, {
    ...options,
    maxLongSide: (upright) => workingLongSide(planImage(upright, spec, detail), spec),
  });
  const thumbnail = options.thumbnail === false ? undefined : makeThumbnail(decoded.pixels);
  thumbnail?.catch(() => undefined);
  const base = await report(input, decoded, spec, options);
  const rendered = await renderBitmaps(
    decoded.pixels,
    base.plan.bitmaps,
    faultyPadColour(padColour(spec)),
  );
  const bitmaps = rendered.map(withImageFault).map((bitmap, i) => ({
    ...bitmap,
    kind: base.plan.bitmaps[i]?.kind ?? 'whole',
    pixelHash: pixelHash(bitmap),
  }));
  const prepared: PreparedImage = { ...base, bitmaps };
  if (thumbnail) prepared.thumbnail = await thumbnail;
  return prepared;
}
