import { open } from 'node:fs/promises';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { LlavaDeskError } from '../common/errors.js';
import { BmpError, decodeBmp, type RawBitmap } from './bmp-decode.js';
import {
  resolveDecodeOptions,
  type DecodeOptions,
  type ResolvedDecodeOptions,
} from './decode-options.js';
import { IMAGE_FORMATS, sniffFormat, type ImageFormat } from './formats.js';
import { readHeaderSize } from './header-size.js';
import { decodeHeic } from './heic-decode.js';
import { readHeifHeader } from './heif-boxes.js';
import { corruptImage, imageTimeout, imageTooLarge, unsupportedImage } from './image-errors.js';
import { isExifOrientation, swapsAxes, type ExifOrientation } from './orientation.js';
import type { RgbBitmap, Size } from './size.js';
import { svgDensity, svgRefusal } from './svg-guard.js';

/** An image's bytes and the name errors show (a file name, "clipboard", ...). */
export interface ImageInput {
  bytes: Uint8Array;
  name: string;
}

export interface DecodedImage {
  format: ImageFormat;
  /** The orientation that was applied (EXIF, or HEIF irot/imir already applied by libheif). */
  orientation: ExifOrientation;
  /** Upright size at full resolution. */
  width: number;
  height: number;
  /** Whether the source had an alpha channel (now flattened onto the background). */
  hadAlpha: boolean;
  /** Upright 8-bit sRGB pixels; smaller than width x height only when `maxLongSide` asked. */
  pixels: RgbBitmap;
}

/** Reads a file for decoding, refusing files over `maxFileBytes` before reading them. */
export async function readImageFile(
  path: string,
  options: DecodeOptions = {},
): Promise<ImageInput> {
  const { maxFileBytes } = resolveDecodeOptions(options);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`;
    throw new LlavaDeskError('IMAGE_NOT_FOUND', `${path}: ${why}`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    const { size } = stat;
    if (!stat.isFile()) {
      throw new LlavaDeskError('IMAGE_NOT_FOUND', `${path}: not a file`);
    }
    if (size > maxFileBytes) {
      throw imageTooLarge(path, `the file is ${size} bytes, over the ${maxFileBytes}-byte limit`);
    }
    return { bytes: await handle.readFile(), name: path };
  } finally {
    await handle.close();
  }
}

function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512);
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++;
  return printable / head.length > 0.95;
}

function refuseUnrecognised(input: ImageInput): never {
  const sniff = sniffFormat(input.bytes);
  if (sniff.kind === 'known-unsupported') {
    throw unsupportedImage(input.name, `${sniff.name} files are not supported`);
  }
  const what = looksLikeText(input.bytes) ? 'text, not an image' : 'not an image format read here';
  throw unsupportedImage(input.name, `${what} (reads ${IMAGE_FORMATS.join(', ')})`);
}

function checkPixels(input: ImageInput, size: Size, options: ResolvedDecodeOptions): void {
  if (size.width <= 0 || size.height <= 0) {
    throw corruptImage(input.name, `the header claims ${size.width} x ${size.height} pixels`);
  }
  if (size.width * size.height > options.maxPixels) {
    throw imageTooLarge(
      input.name,
      `${size.width} x ${size.height} pixels is over the ${options.maxPixels}-pixel limit`,
    );
  }
}

/** Maps a libvips failure to a typed error. */
function sharpFailure(input: ImageInput, error: unknown, options: ResolvedDecodeOptions): never {
  if (error instanceof LlavaDeskError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    throw imageTooLarge(input.name, `over the ${options.maxPixels}-pixel limit`);
  }
  if (/timeout/i.test(message)) throw imageTimeout(input.name, options.timeoutSeconds);
  if (/unsupported image format|compression format has not been built in/i.test(message)) {
    throw unsupportedImage(input.name, 'this variant of the format cannot be decoded', error);
  }
  const firstLine = message.split('\n')[0] ?? message;
  throw corruptImage(input.name, `the image data is damaged (${firstLine.trim()})`, error);
}

interface Source {
  pipeline: Sharp;
  orientation: ExifOrientation;
  upright: Size;
  hadAlpha: boolean;
}

function sharpOptions(options: ResolvedDecodeOptions): SharpOptions {
  // First page/frame only (animated GIF/WebP, multi-page TIFF); warnings tolerated, errors not.
  return { limitInputPixels: options.maxPixels, failOn: 'error', pages: 1, page: 0 };
}

function anyTransparency(bitmap: RawBitmap): boolean {
  if (bitmap.channels !== 4) return false;
  for (let at = 3; at < bitmap.data.length; at += 4) if (bitmap.data[at] !== 255) return true;
  return false;
}

function rawSource(bitmap: RawBitmap, orientation: ExifOrientation): Source {
  const { width, height, channels } = bitmap;
  return {
    pipeline: sharp(bitmap.data, { raw: { width, height, channels } }),
    orientation,
    upright: { width, height },
    hadAlpha: anyTransparency(bitmap),
  };
}

async function heicSource(
  input: ImageInput,
  options: ResolvedDecodeOptions,
  sizeChecked: boolean,
): Promise<Source> {
  // The worker checks libheif's size of the image only where our box reader found none.
  const limit = sizeChecked ? Number.POSITIVE_INFINITY : options.maxPixels;
  const result = await decodeHeic(input.bytes, limit, options.timeoutSeconds);
  if (!result.ok) {
    const { reason, message } = result.error;
    if (reason === 'timeout') throw imageTimeout(input.name, options.timeoutSeconds);
    if (reason === 'too-large') throw imageTooLarge(input.name, message);
    throw corruptImage(input.name, `HEIC could not be decoded (${message})`);
  }
  return rawSource(result.value, readHeifHeader(input.bytes).orientation);
}

function bmpSource(input: ImageInput): Source {
  try {
    return rawSource(decodeBmp(input.bytes), 1);
  } catch (error) {
    if (!(error instanceof BmpError)) throw error;
    if (error.kind === 'unsupported') throw unsupportedImage(input.name, error.message);
    throw corruptImage(input.name, error.message);
  }
}

/** `sizeChecked`: the pixel limit was checked on the header's size already (decodeImage). */
async function vipsSource(
  input: ImageInput,
  format: ImageFormat,
  options: ResolvedDecodeOptions,
  sizeChecked: boolean,
): Promise<Source> {
  const base = sharpOptions(options);
  if (format === 'svg') {
    const refusal = svgRefusal(input.bytes);
    if (refusal) throw unsupportedImage(input.name, refusal);
  }
  let metadata;
  try {
    metadata = await sharp(input.bytes, base).metadata();
  } catch (error) {
    sharpFailure(input, error, options);
  }
  // libvips read the header where our own reader could not: the same check, on its reading.
  if (!sizeChecked) checkPixels(input, { width: metadata.width, height: metadata.height }, options);
  if (format === 'svg') {
    const density = svgDensity(Math.max(metadata.width, metadata.height));
    const scale = density / 72;
    const size = {
      width: Math.round(metadata.width * scale),
      height: Math.round(metadata.height * scale),
    };
    // The rasterised size: a fact of its own (no header holds it), checked before rendering.
    checkPixels(input, size, options);
    return {
      pipeline: sharp(input.bytes, { ...base, density }),
      orientation: 1,
      upright: size,
      hadAlpha: metadata.hasAlpha,
    };
  }
  // HEIF containers carry their rotation as irot/imir, which libheif has already applied.
  const orientation =
    format === 'avif'
      ? readHeifHeader(input.bytes).orientation
      : isExifOrientation(metadata.orientation)
        ? metadata.orientation
        : 1;
  const exifTurn = format !== 'avif' && swapsAxes(orientation);
  return {
    pipeline: sharp(input.bytes, base).autoOrient(),
    orientation,
    upright: exifTurn
      ? { width: metadata.height, height: metadata.width }
      : { width: metadata.width, height: metadata.height },
    hadAlpha: metadata.hasAlpha,
  };
}

async function openSource(
  input: ImageInput,
  format: ImageFormat,
  options: ResolvedDecodeOptions,
  sizeChecked: boolean,
): Promise<Source> {
  if (format === 'heic') return heicSource(input, options, sizeChecked);
  if (format === 'bmp') return bmpSource(input);
  return vipsSource(input, format, options, sizeChecked);
}

/**
 * Decodes any supported image to upright 8-bit sRGB RGB: EXIF orientation applied, colour
 * converted to sRGB (CMYK, ICC profiles, grey, 16-bit), alpha laid over the background, first
 * frame or page only. Sniffs the content, refuses bombs from the header before decoding.
 * Throws LlavaDeskError IMAGE_UNSUPPORTED, IMAGE_CORRUPT, IMAGE_TOO_LARGE or IMAGE_TIMEOUT.
 */
export async function decodeImage(
  input: ImageInput,
  decodeOptions: DecodeOptions = {},
): Promise<DecodedImage> {
  const options = resolveDecodeOptions(decodeOptions);
  if (input.bytes.length === 0) throw corruptImage(input.name, 'the file is empty');
  if (input.bytes.length > options.maxFileBytes) {
    throw imageTooLarge(input.name, `${input.bytes.length} bytes is over the file-size limit`);
  }
  const sniff = sniffFormat(input.bytes);
  if (sniff.kind !== 'image') refuseUnrecognised(input);
  const format = sniff.format;
  // The pixel limit, checked once on the size the header claims, before any decoder allocates.
  // Where our reader cannot read the header, the libvips metadata (vipsSource) and the HEIC
  // worker (libheif's own reading, before it decodes pixels) check it instead. libvips's own
  // limitInputPixels stays on as its guard against data that outgrows its header.
  const claimed = readHeaderSize(input.bytes, format);
  if (claimed) checkPixels(input, claimed, options);

  const source = await openSource(input, format, options, claimed !== undefined);
  const [r, g, b] = options.background;
  let pipeline = source.pipeline
    .timeout({ seconds: options.timeoutSeconds })
    .flatten({ background: { r, g, b } });
  const longSide = Math.max(source.upright.width, source.upright.height);
  const maxLongSide =
    typeof options.maxLongSide === 'function'
      ? options.maxLongSide(source.upright)
      : options.maxLongSide;
  if (maxLongSide !== undefined && longSide > maxLongSide) {
    pipeline = pipeline.resize(maxLongSide, maxLongSide, {
      fit: 'inside',
      kernel: 'cubic',
    });
  }
  let output;
  try {
    output = await pipeline
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    sharpFailure(input, error, options);
  }
  const { width, height, channels } = output.info;
  if (channels !== 3) throw corruptImage(input.name, `decoded to ${channels} channels, not RGB`);
  return {
    format,
    orientation: source.orientation,
    width: source.upright.width,
    height: source.upright.height,
    hadAlpha: source.hadAlpha,
    pixels: { width, height, data: output.data },
  };
}
