/** A size in pixels. */
export interface Size {
  width: number;
  height: number;
}

/** A candidate resolution or a resize target, `[width, height]` as in `image_grid_pinpoints`. */
export type Resolution = readonly [width: number, height: number];

/** 8-bit RGB pixels, 3 bytes per pixel, rows top to bottom with no padding. */
export interface RgbBitmap {
  width: number;
  height: number;
  data: Buffer;
}
