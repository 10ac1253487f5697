import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageService } from '../../src-main/app/image-service.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-images-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noModel = async (): Promise<string | undefined> => undefined;

async function png(width: number, height: number): Promise<Uint8Array> {
  const data = await sharp({
    create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } },
  })
    .png()
    .toBuffer();
  return new Uint8Array(data);
}

describe('image references', () => {
  it('answers width, height and type of a stored image from the store, without decoding it', async () => {
    const added = await new ImageService(dir, noModel).add('wide.png', await png(40, 10));
    expect(added.ref).toMatchObject({ width: 40, height: 10, mime: 'image/png' });
    // A new session (nothing in memory). The original is replaced by bytes no decoder reads, so
    // an answer can only come from what the store kept when the image was added.
    const images = new ImageService(dir, noModel);
    await writeFile(images.store.originalPath(added.ref.id), 'not an image any more');
    expect(await images.refOf(added.ref.id)).toEqual({
      id: added.ref.id,
      width: 40,
      height: 10,
      mime: 'image/png',
    });
  });

  it('decodes an image stored before its size was kept, once, and keeps what it found', async () => {
    const added = await new ImageService(dir, noModel).add('tall.png', await png(6, 30));
    const images = new ImageService(dir, noModel);
    const metaPath = images.store.metaPath(added.ref.id);
    await rm(metaPath);
    expect(await images.refOf(added.ref.id)).toMatchObject({
      width: 6,
      height: 30,
      mime: 'image/png',
    });
    expect((await stat(metaPath)).isFile()).toBe(true);
    expect(await images.store.readMeta(added.ref.id)).toEqual({
      width: 6,
      height: 30,
      mime: 'image/png',
    });
  });

  it('still refuses an image that is not in the store', async () => {
    await expect(new ImageService(dir, noModel).refOf('a'.repeat(64))).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
    });
  });
});
