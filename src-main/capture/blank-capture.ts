import sharp from 'sharp';

// On Wayland without the desktop portal, and on macOS without the screen-recording permission,
// capturers do not fail: they hand back an empty image, or one that is all black (macOS shows
// only the wallpaper and menu bar, Wayland often plain black). Asking a model about that would
// give a confident, useless answer, so such captures are refused with guidance instead.

export type BlankReason = 'empty' | 'black' | 'transparent';

export interface ChannelRange {
  min: number;
  max: number;
}

/** Brightest value (0..255) a colour channel may reach for the image to count as black. */
export const BLACK_THRESHOLD = 8;

/**
 * Decides from per-channel ranges (R, G, B and optionally alpha) whether a capture is blank.
 * A uniform non-black image (a white document filling the screen) is a real capture.
 */
export function blankReason(
  size: { width: number; height: number },
  channels: ChannelRange[],
): BlankReason | undefined {
  if (size.width <= 0 || size.height <= 0 || channels.length === 0) return 'empty';
  const alpha = channels.length === 4 || channels.length === 2 ? channels.at(-1) : undefined;
  if (alpha !== undefined && alpha.max === 0) return 'transparent';
  const colour = alpha === undefined ? channels : channels.slice(0, -1);
  if (colour.every((channel) => channel.max <= BLACK_THRESHOLD)) return 'black';
  return undefined;
}

/** Reads an encoded capture (PNG) and checks it with {@link blankReason}. */
export async function detectBlankCapture(encoded: Uint8Array): Promise<BlankReason | undefined> {
  if (encoded.byteLength === 0) return 'empty';
  const image = sharp(encoded);
  const [meta, stats] = await Promise.all([image.metadata(), image.stats()]);
  return blankReason(
    { width: meta.width ?? 0, height: meta.height ?? 0 },
    stats.channels.map((channel) => ({ min: channel.min, max: channel.max })),
  );
}
