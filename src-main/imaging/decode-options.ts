import type { Size } from './size.js';

/** Limits and choices of the decoder; every field has a default. */
export interface DecodeOptions {
  /**
   * Largest image accepted, in pixels (width x height as the header claims). Default 100 MP: a
   * 108 MP phone photo fits after a resave, a 16-bit 100 MP decode peaks near 1 GB, and bombs
   * (a few KB claiming gigapixels) are refused before decoding.
   */
  maxPixels?: number;
  /** Largest file read, in bytes. Default 256 MiB. */
  maxFileBytes?: number;
  /** Wall-clock limit of one decode, in seconds (sharp's `timeout`, the HEIC worker). Default 30. */
  timeoutSeconds?: number;
  /**
   * Colour that transparent pixels are laid over. Default white (255, 255, 255): transparent
   * PNGs (logos, diagrams, screenshots of dark text) are drawn for a light page, and white is
   * what viewers, browsers and the chat view show behind them; black would hide dark text and
   * the raw RGB under the alpha (what stb_image hands the runtime) is often garbage.
   */
  background?: readonly [number, number, number];
  /**
   * Downscale on decode so that the long side is at most this (aspect kept, never enlarged),
   * fixed or chosen from the upright size once the header is read. Lets JPEG and WebP shrink
   * while decoding. Default: full size.
   */
  maxLongSide?: number | ((upright: Size) => number | undefined);
}

export const DEFAULT_MAX_PIXELS = 100_000_000;
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const DEFAULT_BACKGROUND: readonly [number, number, number] = [255, 255, 255];

export type ResolvedDecodeOptions = Required<Omit<DecodeOptions, 'maxLongSide'>> &
  Pick<DecodeOptions, 'maxLongSide'>;

export function resolveDecodeOptions(options: DecodeOptions = {}): ResolvedDecodeOptions {
  return {
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    background: options.background ?? DEFAULT_BACKGROUND,
    maxLongSide: options.maxLongSide,
  };
}
