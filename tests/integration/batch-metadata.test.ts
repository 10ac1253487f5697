// XMP sidecars merged and images described in place, through the bundled ExifTool, on sidecars
// shaped like darktable's, Lightroom Classic's and digiKam's. Each result is read back by
// ExifTool's own -X dump and by exifr.
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupPath, embedMetadata } from '../../src-main/batch/embed.js';
import { openExifTool, readTags, type ExifTool } from '../../src-main/batch/exiftool.js';
import { writeXmpSidecar, type Metadata } from '../../src-main/batch/xmp-sidecar.js';
import { decodeImage, pixelHash, readImageFile } from '../../src-main/imaging/index.js';
import { avif, bmp, heic, quadrants } from '../fixtures/image-corpus.js';
import {
  changedTags,
  declaredPrefixes,
  exifrRead,
  exiftoolChildren,
  exiftoolX,
} from '../support/metadata-readers.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/xmp/', import.meta.url));
const WRITTEN_SIDECAR = [
  'XMP-dc:Description',
  'XMP-dc:Subject',
  'XMP-lr:HierarchicalSubject',
  'XMP-xmp:CreatorTool',
];
const TEXT = 'A red bicycle leans on a wall: "street art" & <neon>, 2024 — café ☕\nSecond line.';

let dir: string;
let et: ExifTool;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-metadata-'));
  et = openExifTool();
});

afterAll(async () => {
  // The check below can see ExifTool processes: the pool's one is running now (Linux only).
  if (process.platform === 'linux') expect(exiftoolChildren().length).toBeGreaterThan(0);
  await et.end();
  expect(exiftoolChildren()).toEqual([]);
  await rm(dir, { recursive: true, force: true });
});

async function folder(name: string): Promise<string> {
  const path = join(dir, name);
  await rm(path, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(path));
  return path;
}

const SIDECARS = [
  {
    app: 'darktable',
    fixture: 'darktable.jpg.xmp',
    name: 'IMG_1234.jpg.xmp',
    subject: ['darktable|format|jpg', 'holiday'],
    // "holidays" is the twin of the "holiday" already there.
    added: ['bicycle', 'wall', 'street art'],
    hierarchical: [] as string[],
  },
  {
    app: 'Lightroom Classic',
    fixture: 'lightroom.xmp',
    name: 'IMG_1234.xmp',
    subject: ['Holiday', 'Tuscany', 'Bicycles'],
    added: ['wall', 'street art'],
    hierarchical: ['Places|Italy|Tuscany'],
  },
  {
    app: 'digiKam',
    fixture: 'digikam.jpg.xmp',
    name: 'IMG_1234.jpg.xmp',
    subject: ['Italy', 'Grace'],
    added: ['bicycle', 'wall', 'holidays', 'street art'],
    hierarchical: ['Places|Europe|Italy', 'People|Family|Grace'],
  },
] as const;

describe('XMP sidecars: merged, never replaced', () => {
  it.each(SIDECARS)(
    "keeps every property of $app's sidecar and adds the description and keywords",
    async ({ fixture, name, subject, added, hierarchical }) => {
      const at = join(await folder(`merge-${fixture}`), name);
      await copyFile(join(FIXTURES, fixture), at);
      const before = await exiftoolX(at);
      const prefixesBefore = declaredPrefixes(at);
      const meta: Metadata = {
        description: TEXT,
        keywords: ['bicycle', 'wall', 'holidays', 'street art'],
        hierarchical: ['llava-desk|bicycle', 'llava-desk|wall'],
      };
      await writeXmpSidecar(et, at, meta);

      const after = await exiftoolX(at);
      expect(changedTags(before, after, WRITTEN_SIDECAR)).toEqual([]);
      // Written: the x-default description, the keywords after the ones already there (twins
      // of those not added), the hierarchy after the app's own.
      const newKeywords = added;
      expect(after.get('XMP-dc:Subject')).toEqual([...subject, ...newKeywords]);
      expect(after.get('XMP-lr:HierarchicalSubject')).toEqual([
        ...hierarchical,
        'llava-desk|bicycle',
        'llava-desk|wall',
      ]);
      // A sidecar someone else made keeps its creator tool.
      expect(after.get('XMP-xmp:CreatorTool')).toEqual(before.get('XMP-xmp:CreatorTool'));

      const read = await exifrRead(at);
      expect(read.description).toBe(TEXT);
      expect(read.subject).toEqual([...subject, ...newKeywords]);
      expect(read.hierarchical).toEqual([...hierarchical, 'llava-desk|bicycle', 'llava-desk|wall']);
      // Every namespace is still declared (dc and lr may be new).
      expect(declaredPrefixes(at)).toEqual(expect.arrayContaining(prefixesBefore));
      expect(await readdir(join(at, '..'))).toEqual([name]);
    },
  );

  it("keeps darktable's history stack entry by entry, in order", async () => {
    const at = join(await folder('darktable-history'), 'IMG_1234.jpg.xmp');
    await copyFile(join(FIXTURES, 'darktable.jpg.xmp'), at);
    await writeXmpSidecar(et, at, { description: 'x' });
    const x = await exiftoolX(at);
    expect(x.get('XMP-darktable:HistoryOperation')).toEqual(['exposure', 'colorbalancergb']);
    expect(x.get('XMP-darktable:HistoryMulti_name')).toEqual(['', 'warm']);
    expect(x.get('XMP-darktable:HistoryParams')).toEqual([
      '0000000000000000cdcc4c3e',
      '9a99993e00000000',
    ]);
    expect(x.get('XMP-darktable:History_end')).toEqual(['2']);
  });

  it("keeps the other languages' descriptions (digiKam's de-DE) beside the x-default one", async () => {
    const at = join(await folder('digikam-lang'), 'IMG_1.jpg.xmp');
    await copyFile(join(FIXTURES, 'digikam.jpg.xmp'), at);
    await writeXmpSidecar(et, at, { description: 'Sunday lunch at grandma’s' });
    const x = await exiftoolX(at);
    expect(x.get('XMP-dc:Description')).toEqual(['Sunday lunch at grandma’s']);
    expect(x.get('XMP-dc:Description-de-DE')).toEqual(['Sonntagsessen bei Oma']);
  });

  it('creates a sidecar where there is none, naming llava-desk as its creator tool', async () => {
    const at = join(await folder('new'), 'photo.jpg.xmp');
    await writeXmpSidecar(et, at, { description: TEXT, keywords: ['bike', 'red'] });
    const x = await exiftoolX(at);
    expect(x.get('XMP-xmp:CreatorTool')).toEqual(['llava-desk']);
    expect(x.get('XMP-dc:Subject')).toEqual(['bike', 'red']);
    const read = await exifrRead(at);
    expect(read.description).toBe(TEXT);
    expect(read.subject).toEqual(['bike', 'red']);
  });

  it.each([
    ['cut short', async (text: string) => text.slice(0, 900)],
    ['not XML', async () => 'this is not XMP at all\n'],
    [
      'a JPEG named .xmp',
      async () =>
        (
          await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })
            .jpeg()
            .toBuffer()
        ).toString('latin1'),
    ],
  ])(
    'leaves a malformed sidecar (%s) untouched and fails with XMP_MALFORMED',
    async (_name, make) => {
      const where = await folder(`malformed-${_name.replace(/\W/g, '')}`);
      const at = join(where, 'IMG_1.jpg.xmp');
      const original = await make(await readFile(join(FIXTURES, 'darktable.jpg.xmp'), 'utf8'));
      await writeFile(at, original, 'latin1');
      const bytes = await readFile(at);
      await expect(writeXmpSidecar(et, at, { description: 'x' })).rejects.toMatchObject({
        code: 'XMP_MALFORMED',
      });
      expect(await readFile(at)).toEqual(bytes);
      expect(await readdir(where)).toEqual(['IMG_1.jpg.xmp']);
    },
  );
});

const q = quadrants(64, 48);
const raw = () => sharp(q.data, { raw: { width: q.width, height: q.height, channels: 3 } });

// What exifr (the second reader) can read of each: it reads no WebP, no EXIF out of PNG, no XMP
// out of HEIF containers, no GIF, and fails on IPTC in TIFF.
const IMAGES = [
  {
    name: 'photo.jpg',
    make: () => raw().jpeg({ quality: 90 }).toBuffer(),
    iptc: true,
    exif: true,
    exifr: { xmp: true, iptc: true, exif: true },
  },
  {
    name: 'photo.tif',
    make: () => raw().tiff().toBuffer(),
    iptc: true,
    exif: true,
    exifr: { xmp: true, iptc: false, exif: true },
  },
  {
    name: 'photo.png',
    make: () => raw().png().toBuffer(),
    iptc: false,
    exif: true,
    exifr: { xmp: true, iptc: false, exif: false },
  },
  {
    name: 'photo.webp',
    make: () => raw().webp({ lossless: true }).toBuffer(),
    iptc: false,
    exif: true,
    exifr: undefined,
  },
  {
    name: 'photo.heic',
    make: async () => heic(),
    iptc: false,
    exif: true,
    exifr: { xmp: false, iptc: false, exif: true },
  },
  {
    // XMP only: GIF has no EXIF or IPTC block.
    name: 'photo.gif',
    make: () => raw().gif().toBuffer(),
    iptc: false,
    exif: false,
    exifr: undefined,
  },
  {
    name: 'photo.avif',
    make: () => avif(q),
    iptc: false,
    exif: true,
    exifr: { xmp: false, iptc: false, exif: true },
  },
] as const;

async function pixels(path: string): Promise<string> {
  return pixelHash((await decodeImage(await readImageFile(path))).pixels);
}

describe('--embed: the description written into the image itself', () => {
  it.each(IMAGES)(
    '$name: XMP, IPTC and EXIF as the format holds them; same pixels; the original kept',
    async ({ name, make, iptc, exif, exifr: second }) => {
      const where = await folder(`embed-${name}`);
      const at = join(where, name);
      const original = await make();
      await writeFile(at, original);
      const pixelsBefore = await pixels(at);
      await embedMetadata(et, at, { description: TEXT, keywords: ['bicycle', 'wall'] });
      await embedMetadata(et, at, { description: TEXT, keywords: ['Bicycles', 'neon'] });

      expect(await readFile(backupPath(at))).toEqual(original);
      expect(await pixels(at)).toBe(pixelsBefore);
      expect((await readdir(where)).sort()).toEqual([name, `${name}_original`].sort());
      const read = await readTags(et, at, [
        'XMP-dc:Description',
        'XMP-dc:Subject',
        'IPTC:Caption-Abstract',
        'IPTC:Keywords',
        'IFD0:ImageDescription',
      ]);
      expect(read.values['XMP-dc:Description']).toBe(TEXT);
      // The second run merged into the first's keywords: "Bicycles" is bicycle's twin.
      expect(read.values['XMP-dc:Subject']).toEqual(['bicycle', 'wall', 'neon']);
      if (iptc) {
        expect(read.values['IPTC:Caption-Abstract']).toBe(TEXT);
        expect(read.values['IPTC:Keywords']).toEqual(['bicycle', 'wall', 'neon']);
      } else {
        expect(read.values['IPTC:Keywords']).toBeUndefined();
      }
      if (exif) expect(read.values['IFD0:ImageDescription']).toBe(TEXT);
      else expect(read.values['IFD0:ImageDescription']).toBeUndefined();

      if (second) {
        const view = await exifrRead(at, { iptc: second.iptc });
        if (second.exif) expect(view.imageDescription).toBe(TEXT);
        if (second.xmp) {
          expect(view.description).toBe(TEXT);
          expect(view.subject).toEqual(['bicycle', 'wall', 'neon']);
        }
        if (second.iptc) {
          expect(view.iptcCaption).toBe(TEXT);
          expect(view.iptcKeywords).toEqual(['bicycle', 'wall', 'neon']);
        }
      }
    },
  );

  it('keeps no backup with backup: false, and keeps the first original over later runs', async () => {
    const where = await folder('embed-backups');
    const at = join(where, 'a.jpg');
    await writeFile(at, await raw().jpeg().toBuffer());
    await embedMetadata(et, at, { description: 'one' }, { backup: false });
    expect(await readdir(where)).toEqual(['a.jpg']);
    const afterFirst = await readFile(at);
    await embedMetadata(et, at, { description: 'two' });
    await embedMetadata(et, at, { description: 'three' });
    expect(await readFile(backupPath(at))).toEqual(afterFirst);
  });

  it('refuses a BMP with EMBED_UNSUPPORTED and leaves it untouched', async () => {
    const where = await folder('embed-bmp');
    const at = join(where, 'a.bmp');
    const bytes = bmp(q);
    await writeFile(at, bytes);
    await expect(embedMetadata(et, at, { description: 'x' })).rejects.toMatchObject({
      code: 'EMBED_UNSUPPORTED',
    });
    expect(await readFile(at)).toEqual(bytes);
    expect(await readdir(where)).toEqual(['a.bmp']);
  });
});
