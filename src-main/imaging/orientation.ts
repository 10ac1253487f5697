/** EXIF orientation: how the stored pixels must be turned to be seen upright. 1 = as stored. */
export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export function isExifOrientation(value: unknown): value is ExifOrientation {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 8;
}

/** Orientations 5-8 turn the image a quarter: the upright width is the stored height. */
export function swapsAxes(orientation: ExifOrientation): boolean {
  return orientation >= 5;
}

/** A linear map of pixel offsets from the centre, y down: (x, y) -> (a x + b y, c x + d y). */
export type Transform2d = readonly [a: number, b: number, c: number, d: number];

const EXIF_TRANSFORMS: Readonly<Record<ExifOrientation, Transform2d>> = {
  1: [1, 0, 0, 1],
  2: [-1, 0, 0, 1], // mirror left-right
  3: [-1, 0, 0, -1], // 180
  4: [1, 0, 0, -1], // mirror top-bottom
  5: [0, 1, 1, 0], // transpose
  6: [0, -1, 1, 0], // 90 clockwise
  7: [0, -1, -1, 0], // transverse
  8: [0, 1, -1, 0], // 90 anticlockwise
};

/** `second` applied after `first`. */
export function composeTransforms(first: Transform2d, second: Transform2d): Transform2d {
  const [a1, b1, c1, d1] = first;
  const [a2, b2, c2, d2] = second;
  return [a2 * a1 + b2 * c1, a2 * b1 + b2 * d1, c2 * a1 + d2 * c1, c2 * b1 + d2 * d1];
}

/** HEIF `irot`: the angle is anticlockwise, in quarter turns. */
export function heifRotation(quarterTurnsAnticlockwise: number): Transform2d {
  let transform: Transform2d = EXIF_TRANSFORMS[1];
  for (let i = 0; i < (quarterTurnsAnticlockwise & 3); i++) {
    transform = composeTransforms(transform, EXIF_TRANSFORMS[8]);
  }
  return transform;
}

/**
 * HEIF `imir`, as libheif (the decoder of both HEIC and AVIF here) applies it: axis 0 flips
 * top-bottom, axis 1 left-right (the later reading of ISO/IEC 23008-12).
 */
export function heifMirror(axis: number): Transform2d {
  return (axis & 1) === 0 ? EXIF_TRANSFORMS[4] : EXIF_TRANSFORMS[2];
}

/** The EXIF orientation that performs the same transform. */
export function exifOrientationOf(transform: Transform2d): ExifOrientation {
  for (const [key, value] of Object.entries(EXIF_TRANSFORMS)) {
    if (value.every((v, i) => v === transform[i])) return Number(key) as ExifOrientation;
  }
  return 1;
}
