import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SVG_CSS_IMPORT,
  SVG_ENTITIES,
  SVG_EXTERNAL_IMAGE,
  SVG_SELF_CONTAINED,
  bmpBomb,
  gifBomb,
  heic,
  jpeg,
  jpegBomb,
  noise,
  png,
  pngBomb,
  quadrants,
  solid,
  tiff,
  truncated,
  webpBomb,
  RED,
} from '../fixtures/image-corpus.js';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import type { ErrorCode } from '../../src-main/api/errors.js';
import { decodeImage, readImageFile, type DecodeOptions } from '../../src-main/imaging/index.js';
import { decodeHeic } from '../../src-main/imaging/heic-decode.js';

async function refusal(
  bytes: Uint8Array,
  name = 'holiday.jpg',
  options?: DecodeOptions,
): Promise<LlavaDeskError> {
  try {
    await decodeImage({ bytes, name }, options);
  } catch (error) {
    if (error instanceof LlavaDeskError) return error;
    throw error;
  }
  throw new Error(`${name} was decoded, not refused`);
}

async function expectRefused(
  bytes: Uint8Array,
  code: ErrorCode,
  options?: DecodeOptions,
): Promise<string> {
  const error = await refusal(bytes, '/some/folder/holiday.jpg', options);
  expect(error.code, error.message).toBe(code);
  expect(error.message).toMatch(/^holiday\.jpg: /); // names the file, not the whole path
  return error.message;
}

describe('decodeImage refuses, with typed errors', () => {
  it('refuses decompression bombs from the header, before decoding', async () => {
    const bombs = {
      png: pngBomb(100_000, 100_000),
      jpeg: await jpegBomb(65_000, 65_000),
      gif: await gifBomb(),
      webp: await webpBomb(),
      bmp: bmpBomb(100_000, 100_000),
      tiff: tiff([solid(4, 4, RED)], { width: 100_000, height: 100_000 }),
      heic: heic({ claimed: { width: 100_000, height: 100_000 } }),
    };
    for (const [format, bytes] of Object.entries(bombs)) {
      expect(bytes.length, format).toBeLessThan(4096);
      const started = performance.now();
      const message = await expectRefused(bytes, 'IMAGE_TOO_LARGE');
      expect(message, format).toMatch(/pixel limit/);
      expect(performance.now() - started, format).toBeLessThan(500);
    }
  });

  it('takes the pixel limit as an option', async () => {
    const bytes = await png(solid(40, 30, RED));
    await expectRefused(bytes, 'IMAGE_TOO_LARGE', { maxPixels: 40 * 30 - 1 });
    await expect(
      decodeImage({ bytes, name: 'a.png' }, { maxPixels: 40 * 30 }),
    ).resolves.toBeDefined();
  });

  it('refuses empty, truncated and damaged files as IMAGE_CORRUPT', async () => {
    const picture = quadrants(200, 150);
    const jpegBytes = await jpeg(picture);
    const pngBytes = await png(picture);
    await expectRefused(new Uint8Array(0), 'IMAGE_CORRUPT');
    for (const keep of [0.1, 0.5, 0.95]) {
      await expectRefused(truncated(jpegBytes, keep), 'IMAGE_CORRUPT');
      await expectRefused(truncated(pngBytes, keep), 'IMAGE_CORRUPT');
    }
    await expectRefused(jpegBytes.subarray(0, 40), 'IMAGE_CORRUPT'); // header only
    const damaged = Buffer.from(pngBytes);
    damaged.fill(0xff, 100, 400); // inside IDAT: the CRC and the deflate stream break
    await expectRefused(damaged, 'IMAGE_CORRUPT');
    await expectRefused(truncated(heic(), 0.6), 'IMAGE_CORRUPT');
  });

  it('refuses random bytes, text and unsupported formats as IMAGE_UNSUPPORTED', async () => {
    expect(await expectRefused(noise(4096), 'IMAGE_UNSUPPORTED')).toMatch(/not an image/);
    const text = Buffer.from('Dear diary, today I renamed a text file to .jpg\n'.repeat(10));
    expect(await expectRefused(text, 'IMAGE_UNSUPPORTED')).toMatch(/text, not an image/);
    const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', 'latin1');
    expect(await expectRefused(pdf, 'IMAGE_UNSUPPORTED')).toMatch(/PDF files are not supported/);
  });

  it('never crashes on mangled headers of any format', async () => {
    const seeds = [await jpeg(solid(16, 16, RED)), await png(solid(16, 16, RED)), heic()];
    for (const [i, seed] of seeds.entries()) {
      for (let round = 0; round < 8; round++) {
        const bytes = Buffer.from(seed);
        const junk = noise(16, 1 + i * 100 + round);
        bytes.set(junk, 8 + ((round * 37) % Math.max(1, Math.min(200, bytes.length - 24))));
        try {
          await decodeImage({ bytes, name: 'mangled' });
        } catch (error) {
          expect(error).toBeInstanceOf(LlavaDeskError);
          expect((error as LlavaDeskError).code).toMatch(/^IMAGE_/);
        }
      }
    }
  });
});

describe('SVG: rasterised when self-contained, refused otherwise', () => {
  it('rasterises a self-contained SVG, larger than its nominal size', async () => {
    const image = await decodeImage({ bytes: Buffer.from(SVG_SELF_CONTAINED), name: 'logo.svg' });
    expect(image.format).toBe('svg');
    expect(image.width / image.height).toBe(2);
    expect(image.width).toBeGreaterThan(40);
    const at = (Math.floor(image.height / 2) * image.width + 5) * 3;
    expect([...image.pixels.data.subarray(at, at + 3)]).toEqual([255, 0, 0]);
  });

  it.each([
    ['an external image', SVG_EXTERNAL_IMAGE, /external reference/],
    ['entity declarations', SVG_ENTITIES, /entit/],
    ['a CSS @import', SVG_CSS_IMPORT, /@import/],
  ])('refuses an SVG with %s', async (_what, svg, reason) => {
    expect(await expectRefused(Buffer.from(svg), 'IMAGE_UNSUPPORTED')).toMatch(reason);
  });
});

describe('readImageFile and the HEIC guard', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llava-desk-imaging-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file, refuses a missing one and one over the size limit', async () => {
    const path = join(dir, 'photo.png');
    await writeFile(path, await png(solid(8, 8, RED)));
    expect((await readImageFile(path)).bytes.length).toBeGreaterThan(0);
    await expect(readImageFile(join(dir, 'nope.png'))).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
    });
    await expect(readImageFile(dir)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    await expect(readImageFile(path, { maxFileBytes: 10 })).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
  });

  it('stops a HEIC decode that overruns its time limit', async () => {
    const result = await decodeHeic(heic(), 100_000_000, 0.001);
    expect(result).toMatchObject({ ok: false, error: { reason: 'timeout' } });
    await expect(
      decodeImage({ bytes: heic(), name: 'slow.heic' }, { timeoutSeconds: 0.001 }),
    ).rejects.toMatchObject({ code: 'IMAGE_TIMEOUT' });
  });
});
