import { describe, expect, it } from 'vitest';
import {
  BLUE,
  GREEN,
  HEIC_SIZE,
  RED,
  WHITE,
  animated,
  avif,
  bmp,
  heic,
  jpeg,
  palettePngWithAlpha,
  quadrants,
  sharpFormats,
  solid,
  storeForOrientation,
  tiff,
  type Rgb,
} from '../fixtures/image-corpus.js';
import { decodeImage, type DecodedImage } from '../../src-main/imaging/index.js';

function pixel(image: DecodedImage, x: number, y: number): Rgb {
  const { width, data } = image.pixels;
  const at = (y * width + x) * 3;
  return [data[at] ?? -1, data[at + 1] ?? -1, data[at + 2] ?? -1];
}

function expectColour(actual: Rgb, expected: Rgb, tolerance: number, what = ''): void {
  const off = actual.map((v, i) => Math.abs(v - (expected[i] ?? 0)));
  expect(Math.max(...off), `${what}: ${actual.join(',')} vs ${expected.join(',')}`).toBeLessThan(
    tolerance + 1,
  );
}

/** Checks the four quadrant colours near the corners of an upright quadrant picture. */
function expectQuadrants(image: DecodedImage, tolerance: number): void {
  const { width: w, height: h } = image.pixels;
  expectColour(pixel(image, 3, 3), RED, tolerance, 'top left');
  expectColour(pixel(image, w - 4, 3), GREEN, tolerance, 'top right');
  expectColour(pixel(image, 3, h - 4), BLUE, tolerance, 'bottom left');
  expectColour(pixel(image, w - 4, h - 4), WHITE, tolerance, 'bottom right');
}

function decode(bytes: Uint8Array, name = 'test-image') {
  return decodeImage({ bytes, name });
}

describe('decodeImage: formats, sniffed from the content', () => {
  const upright = quadrants(60, 40);

  it('reads every format sharp writes, to upright 8-bit RGB of the right size', async () => {
    const formats = await sharpFormats(upright);
    const expected: Record<string, string> = {
      jpeg: 'jpeg',
      progressiveJpeg: 'jpeg',
      cmykJpeg: 'jpeg',
      png: 'png',
      png16: 'png',
      greyPng: 'png',
      webp: 'webp',
      gif: 'gif',
      avif: 'avif',
      tiff: 'tiff',
    };
    for (const [name, bytes] of Object.entries(formats)) {
      const image = await decode(bytes, `${name}.bin`);
      expect(image.format, name).toBe(expected[name]);
      expect([image.width, image.height, image.orientation], name).toEqual([60, 40, 1]);
      expect(image.pixels.data.length, name).toBe(60 * 40 * 3);
      if (name !== 'greyPng' && name !== 'gif' && name !== 'cmykJpeg') expectQuadrants(image, 12);
    }
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const { cmykJpeg } = await sharpFormats(solid(32, 32, [200, 30, 30]));
    const image = await decode(cmykJpeg);
    const [r, g, b] = pixel(image, 16, 16);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it('reduces a 16-bit PNG to 8 bits with the same colours', async () => {
    const { png16 } = await sharpFormats(solid(20, 10, [200, 100, 50]));
    expect(png16[24]).toBe(16); // IHDR bit depth
    const image = await decode(png16);
    expect(pixel(image, 5, 5)).toEqual([200, 100, 50]);
  });

  it('flattens a palette PNG with alpha onto white by default, or a given background', async () => {
    const bytes = await palettePngWithAlpha([0, 0, 255], 0.5);
    const onWhite = await decode(bytes);
    expect(onWhite.hadAlpha).toBe(true);
    expectColour(pixel(onWhite, 8, 8), [127, 127, 255], 3, 'on white');
    const onBlack = await decodeImage({ bytes, name: 'p.png' }, { background: [0, 0, 0] });
    expectColour(pixel(onBlack, 8, 8), [0, 0, 128], 3, 'on black');
  });

  it('takes the first frame of an animated GIF and WebP', async () => {
    for (const format of ['gif', 'webp'] as const) {
      const image = await decode(await animated(format, [RED, BLUE, GREEN]));
      expect(image.format).toBe(format);
      expect([image.width, image.height]).toEqual([24, 16]);
      expectColour(pixel(image, 12, 8), RED, 4, format);
    }
  });

  it('takes the first page of a multi-page TIFF', async () => {
    const image = await decode(tiff([solid(10, 8, RED), solid(12, 9, BLUE)]));
    expect([image.format, image.width, image.height]).toEqual(['tiff', 10, 8]);
    expect(pixel(image, 5, 5)).toEqual(RED);
  });

  it('reads BMP: 24-bit, top-down, 32-bit, 8-bit palette, RLE8, and 32-bit alpha', async () => {
    const variants = {
      '24': bmp(upright),
      'top-down': bmp(upright, { topDown: true }),
      '32': bmp(upright, { bits: 32 }),
      '8': bmp(upright, { bits: 8 }),
      rle8: bmp(upright, { bits: 8, rle: true }),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const image = await decode(bytes);
      expect(image.format, name).toBe('bmp');
      expect(image.hadAlpha, name).toBe(false);
      expect(Buffer.compare(image.pixels.data, upright.data), name).toBe(0);
    }
    const halfTransparent = await decode(
      bmp(upright, { bits: 32, alpha: (x) => (x < 30 ? 0 : 255) }),
    );
    expect(halfTransparent.hadAlpha).toBe(true);
    expect(pixel(halfTransparent, 3, 3)).toEqual([255, 255, 255]);
    expect(pixel(halfTransparent, 56, 3)).toEqual(GREEN);
  });

  it('reads HEIC through libheif-js, in a worker', async () => {
    const image = await decode(heic(), 'IMG_0001.HEIC');
    expect([image.format, image.width, image.height, image.orientation]).toEqual([
      'heic',
      HEIC_SIZE.width,
      HEIC_SIZE.height,
      1,
    ]);
    expectQuadrants(image, 12);
  });
});

describe('decodeImage: orientation', () => {
  const upright = quadrants(48, 32);

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'applies EXIF orientation %i to the pixels and reports the upright size',
    async (orientation) => {
      const stored = storeForOrientation(upright, orientation);
      const image = await decode(await jpeg(stored, orientation));
      expect(image.orientation).toBe(orientation);
      expect([image.width, image.height]).toEqual([48, 32]);
      expect([image.pixels.width, image.pixels.height]).toEqual([48, 32]);
      expectQuadrants(image, 12);
    },
  );

  // irot turns anticlockwise; imir axis 0 flips top-bottom (as libheif applies it).
  const heifCases = [
    { options: { rotate: 1 }, orientation: 8, size: [64, 96], corners: [GREEN, WHITE, RED, BLUE] },
    { options: { rotate: 2 }, orientation: 3, size: [96, 64], corners: [WHITE, BLUE, GREEN, RED] },
    { options: { rotate: 3 }, orientation: 6, size: [64, 96], corners: [BLUE, RED, WHITE, GREEN] },
    { options: { mirror: 0 }, orientation: 4, size: [96, 64], corners: [BLUE, WHITE, RED, GREEN] },
    { options: { mirror: 1 }, orientation: 2, size: [96, 64], corners: [GREEN, RED, WHITE, BLUE] },
  ] as const;

  it.each(heifCases)(
    'applies HEIC irot/imir $options',
    async ({ options, orientation, size, corners }) => {
      const image = await decode(heic(options));
      expect(image.orientation).toBe(orientation);
      expect([image.width, image.height]).toEqual(size);
      const [w, h] = size;
      const seen = [
        pixel(image, 3, 3),
        pixel(image, w - 4, 3),
        pixel(image, 3, h - 4),
        pixel(image, w - 4, h - 4),
      ];
      seen.forEach((colour, i) => expectColour(colour, corners[i] ?? RED, 12, `corner ${i}`));
    },
  );

  it('applies AVIF irot and imir the same way', async () => {
    const small = quadrants(40, 30);
    const turned = await decode(await avif(small, { rotate: 1 }));
    expect([turned.format, turned.orientation, turned.width, turned.height]).toEqual([
      'avif',
      8,
      30,
      40,
    ]);
    expectColour(pixel(turned, 3, 3), GREEN, 12, 'turned top left');
    const mirrored = await decode(await avif(small, { mirror: 0 }));
    expect(mirrored.orientation).toBe(4);
    expectColour(pixel(mirrored, 3, 3), BLUE, 12, 'mirrored top left');
  });
});
