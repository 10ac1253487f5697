import type { RgbBitmap } from './size.js';

/**
 * Test-only switches that break the app's image pipeline on purpose, so an evaluation can show
 * that it notices (`npm run eval:shapes-model`): with `LLAVA_DESK_TEST_IMAGE_FAULT` set to
 * `swap-channels` every bitmap reaches the encoder as BGR, with `pad-black` images are padded to
 * square with black instead of the encoder's mean colour. Unset (always, for users) nothing
 * changes.
 */
export type ImageFault = 'swap-channels' | 'pad-black';

const FAULTS: readonly ImageFault[] = ['swap-channels', 'pad-black'];

export function imageFault(): ImageFault | undefined {
  const value = process.env['LLAVA_DESK_TEST_IMAGE_FAULT'];
  return FAULTS.find((f) => f === value);
}

/** The pad colour the plan renders with, black under `pad-black`. */
export function faultyPadColour(
  colour: readonly [number, number, number],
): readonly [number, number, number] {
  return imageFault() === 'pad-black' ? [0, 0, 0] : colour;
}

/** The bitmap as the encoder gets it: red and blue swapped under `swap-channels`. */
export function withImageFault<T extends RgbBitmap>(bitmap: T): T {
  if (imageFault() !== 'swap-channels') return bitmap;
  const data = Buffer.from(bitmap.data);
  for (let i = 0; i + 2 < data.length; i += 3) {
    const r = data[i] as number;
    data[i] = data[i + 2] as number;
    data[i + 2] = r;
  }
  return { ...bitmap, data };
}
