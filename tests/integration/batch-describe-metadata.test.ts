// `llava-desk describe` with the real engine and the tiny LLaVA pair on a photo folder that
// darktable and Lightroom already know: sidecars merged under their own names, descriptions
// written into the images, CSV safe; read back by ExifTool (-X) and exifr.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { normaliseKeywords, splitKeywords } from '../../src-main/batch/keywords.js';
import { decodeImage, pixelHash, readImageFile } from '../../src-main/imaging/index.js';
import {
  changedTags,
  exifrRead,
  exiftoolChildren,
  exiftoolX,
} from '../support/metadata-readers.js';
import { runCli } from '../support/run-cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/xmp/', import.meta.url));
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const WRITTEN = ['XMP-dc:Description', 'XMP-dc:Subject', 'XMP-lr:HierarchicalSubject'];
/** The describe run both the first pass and the resumed one make: keywords into XMP, embedded. */
const KEYWORD_RUN = [
  '--preset',
  'keywords',
  '--out',
  'xmp,jsonl,csv',
  '--embed',
  '--hierarchy',
  'llava-desk',
  '--max-keywords',
  '4',
  '--keyword-case',
  'lower',
];

let dir: string;
let pair: LlavaPairResult;
let folder: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-describe-metadata-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 7 });
  folder = join(dir, 'library');
  await mkdir(folder);
  const raw = (seed: number) =>
    sharp(Buffer.alloc(40 * 30 * 3, seed * 50), { raw: { width: 40, height: 30, channels: 3 } });
  await raw(1).jpeg().toFile(join(folder, 'lr.jpg'));
  await copyFile(join(FIXTURES, 'lightroom.xmp'), join(folder, 'lr.xmp'));
  await raw(2).png().toFile(join(folder, 'dt.png'));
  await copyFile(join(FIXTURES, 'darktable.jpg.xmp'), join(folder, 'dt.png.xmp'));
  await raw(3).webp({ lossless: true }).toFile(join(folder, 'new.webp'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function describeFolder(...extra: string[]): Promise<{ code: number; out: string }> {
  const { code, out, err } = await runCli([
    'describe',
    folder,
    '--model',
    pair.modelPath,
    '--mmproj',
    pair.mmprojPath,
    '--threads',
    '1',
    '--max-tokens',
    '24',
    '--data-dir',
    join(dir, 'data'),
    ...extra,
  ]);
  if (code !== 0) throw new Error(`describe exited ${code}: ${err}`);
  return { code, out };
}

interface Row {
  path: string;
  sha256: string;
  text: string;
}

describe('llava-desk describe --out xmp --embed on a catalogued folder', () => {
  it('merges into the sidecars there, writes into the images, keeps originals and pixels', async () => {
    const before = {
      lr: await exiftoolX(join(folder, 'lr.xmp')),
      dt: await exiftoolX(join(folder, 'dt.png.xmp')),
    };
    const pixels = async (name: string) =>
      pixelHash((await decodeImage(await readImageFile(join(folder, name)))).pixels);
    const pixelsBefore = await Promise.all(['lr.jpg', 'dt.png', 'new.webp'].map(pixels));
    const originals = await Promise.all(
      ['lr.jpg', 'dt.png', 'new.webp'].map((n) => readFile(join(folder, n))),
    );

    await describeFolder(...KEYWORD_RUN);
    expect(exiftoolChildren()).toEqual([]);
    expect((await readdir(folder)).sort()).toEqual(
      [
        'dt.png',
        'dt.png.xmp',
        'dt.png_original',
        'llava-desk.csv',
        'llava-desk.jsonl',
        'lr.jpg',
        'lr.jpg_original',
        'lr.xmp',
        'new.webp',
        'new.webp.xmp',
        'new.webp_original',
      ].sort(),
    );
    expect(await Promise.all(['lr.jpg', 'dt.png', 'new.webp'].map(pixels))).toEqual(pixelsBefore);
    for (const [i, name] of ['lr.jpg', 'dt.png', 'new.webp'].entries()) {
      expect(await readFile(join(folder, `${name}_original`))).toEqual(originals[i]);
    }

    const rows = (await readFile(join(folder, 'llava-desk.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    const byPath = new Map(rows.map((r) => [r.path, r]));
    const textOf = (path: string) => (byPath.get(path)?.text ?? '').replace(NOT_XML, '');
    const keywordsOf = (path: string) =>
      normaliseKeywords(splitKeywords(byPath.get(path)?.text ?? ''), { case: 'lower', max: 4 })
        .keywords.map((k) => k.replace(NOT_XML, ''))
        .filter((k) => k !== '');

    // Sidecars: everything the apps wrote is still there; ours added after theirs.
    const lr = await exiftoolX(join(folder, 'lr.xmp'));
    expect(changedTags(before.lr, lr, WRITTEN)).toEqual([]);
    expect(lr.get('XMP-dc:Description')).toEqual([textOf('lr.jpg')]);
    const dt = await exiftoolX(join(folder, 'dt.png.xmp'));
    expect(changedTags(before.dt, dt, WRITTEN)).toEqual([]);
    expect(dt.get('XMP-darktable:HistoryOperation')).toEqual(['exposure', 'colorbalancergb']);
    expect(keywordsOf('new.webp').length).toBeGreaterThan(0);
    const made = await exifrRead(join(folder, 'new.webp.xmp'));
    expect(made.description).toBe(textOf('new.webp'));
    expect(made.subject).toEqual(keywordsOf('new.webp'));
    expect(made.hierarchical).toEqual(keywordsOf('new.webp').map((k) => `llava-desk|${k}`));

    // The images themselves, and the JSONL's sha256 is the file as it is now.
    const jpeg = await exifrRead(join(folder, 'lr.jpg'));
    expect(jpeg.description).toBe(textOf('lr.jpg'));
    expect(jpeg.iptcCaption).toBe(textOf('lr.jpg'));
    expect(jpeg.subject).toEqual(keywordsOf('lr.jpg'));
    const webp = await exiftoolX(join(folder, 'new.webp'));
    expect(webp.get('XMP-dc:Description')).toEqual([textOf('new.webp')]);
    const { createHash } = await import('node:crypto');
    for (const row of rows) {
      const bytes = await readFile(join(folder, row.path));
      expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }

    const csv = parse(await readFile(join(folder, 'llava-desk.csv')), { columns: true }) as Array<
      Record<string, string>
    >;
    for (const row of csv) {
      const text = byPath.get(row['path'] ?? '')?.text ?? '';
      expect(row['text']).toBe(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
    }

    // A second run finds everything done and changes nothing.
    const snapshot = await Promise.all(
      ['lr.jpg', 'lr.xmp', 'dt.png', 'dt.png.xmp', 'new.webp'].map((n) =>
        readFile(join(folder, n)),
      ),
    );
    const again = await describeFolder(...KEYWORD_RUN, '--json');
    expect(again.out.match(/"reason":"unchanged"/g)).toHaveLength(3);
    expect(
      await Promise.all(
        ['lr.jpg', 'lr.xmp', 'dt.png', 'dt.png.xmp', 'new.webp'].map((n) =>
          readFile(join(folder, n)),
        ),
      ),
    ).toEqual(snapshot);
  });
});
