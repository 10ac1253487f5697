import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../src-main/chats/image-store.js';
import {
  imageStorePath,
  imageUrl,
  isInside,
  parseImageUrl,
} from '../../src-main/url-schemes/image-url.js';
import { answerImageRequest } from '../../src-main/url-schemes/serve.js';

const ID = 'a'.repeat(64);

describe('llava-image URLs', () => {
  it('round-trips originals and thumbnails', () => {
    expect(imageUrl(ID)).toBe(`llava-image://${ID}`);
    expect(parseImageUrl(imageUrl(ID))).toEqual({ id: ID, variant: 'original' });
    expect(parseImageUrl(`llava-image://${ID}/`)).toEqual({ id: ID, variant: 'original' });
    expect(parseImageUrl(imageUrl(ID, 'thumb'))).toEqual({ id: ID, variant: 'thumb' });
    expect(() => imageUrl('../etc')).toThrow();
  });

  it('refuses everything else, traversal included', () => {
    const refused = [
      'file:///etc/passwd',
      `https://${ID}/`,
      'llava-image://../../etc/passwd',
      `llava-image://${ID}/../../../etc/passwd`,
      `llava-image://${ID}/%2e%2e/%2e%2e/etc/passwd`,
      `llava-image://${ID}/..%2fsecret`,
      `llava-image://${ID}/thumb/extra`,
      `llava-image://${ID}/original`,
      `llava-image://${ID}?x=1`,
      `llava-image://${ID}#frag`,
      `llava-image://user@${ID}`,
      `llava-image://${ID}:8080`,
      `llava-image://${'A'.repeat(64)}x`,
      `llava-image://${'g'.repeat(64)}`,
      `llava-image://${ID.slice(1)}`,
      'llava-image://',
      'not a url',
    ];
    for (const url of refused) expect(parseImageUrl(url), url).toBeUndefined();
  });

  it('maps ids into the store layout and never outside it', () => {
    expect(imageStorePath('/data/images', { id: ID, variant: 'original' })).toBe(
      join('/data/images', 'aa', ID),
    );
    expect(imageStorePath('/data/images', { id: ID, variant: 'thumb' })).toBe(
      join('/data/images', 'aa', `${ID}.thumb`),
    );
    expect(imageStorePath('/data/images', { id: '../../x', variant: 'original' })).toBeUndefined();
    expect(isInside('/data/images', '/data/images/aa/b')).toBe(true);
    expect(isInside('/data/images', '/data/images-evil/x')).toBe(false);
    expect(isInside('/data/images', '/data/images/../secret')).toBe(false);
  });
});

describe('serving the image store', () => {
  let dir: string;
  let id: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llava-desk-protocol-'));
    const bytes = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const thumbnail = await sharp(bytes).webp().toBuffer();
    const store = new ImageStore(join(dir, 'images'));
    id = (await store.put({ bytes, mime: 'image/png', width: 4, height: 4, thumbnail })).id;
    await writeFile(join(dir, 'secret.txt'), 'secret');
    await mkdir(join(dir, 'images', 'zz'), { recursive: true });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers originals and thumbnails with their real type and no-script headers', async () => {
    const original = await answerImageRequest(join(dir, 'images'), imageUrl(id));
    expect(original.status).toBe(200);
    expect(original.headers['Content-Type']).toBe('image/png');
    expect(original.headers['Content-Security-Policy']).toContain('sandbox');
    expect(original.headers['X-Content-Type-Options']).toBe('nosniff');
    const thumb = await answerImageRequest(join(dir, 'images'), imageUrl(id, 'thumb'));
    expect(thumb.headers['Content-Type']).toBe('image/webp');
  });

  it('answers 404 for unknown ids and traversal, 405 for writes', async () => {
    const images = join(dir, 'images');
    expect((await answerImageRequest(images, imageUrl('b'.repeat(64)))).status).toBe(404);
    expect((await answerImageRequest(images, `llava-image://${id}/../../secret.txt`)).status).toBe(
      404,
    );
    expect(
      (await answerImageRequest(images, `llava-image://${id}/%2e%2e%2f%2e%2e%2fsecret.txt`)).status,
    ).toBe(404);
    expect((await answerImageRequest(images, imageUrl(id), 'POST')).status).toBe(405);
  });
});
