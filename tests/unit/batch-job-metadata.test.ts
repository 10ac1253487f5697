// The job's XMP, embedding, keyword and table behaviour on real files with the bundled ExifTool;
// the engine is scripted (ScriptedEngine: these tests are about the files, not the answers).
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchJob } from '../../src-main/batch/job.js';
import type { BatchEvent, DoneRecord, JobOptions } from '../../src-main/batch/types.js';
import { LLAVA_15_ENCODER } from '../../src-main/imaging/index.js';
import { changedTags, exiftoolChildren, exiftoolX } from '../support/metadata-readers.js';
import { ScriptedEngine } from '../support/scripted-batch-engine.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/xmp/', import.meta.url));
const KEYWORDS = '1. Bicycle, wall; bicycles\n- Holidays.';

let dir: string;
let folder: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-xmp-'));
  folder = join(dir, 'photos');
  await mkdir(folder);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function jpeg(name: string, seed: number): Promise<void> {
  const raw = Buffer.alloc(24 * 16 * 3, seed * 30);
  await sharp(raw, { raw: { width: 24, height: 16, channels: 3 } })
    .jpeg()
    .toFile(join(folder, name));
}

async function run(answer: string, options: Partial<JobOptions> = {}) {
  const engine = new ScriptedEngine(answer);
  const job = new BatchJob(
    { folder, outputs: ['xmp'], preset: 'keywords', ...options },
    {
      engine,
      parallel: 2,
      modelPath: '/models/m.gguf',
      encoder: LLAVA_15_ENCODER,
      jobsDir: join(dir, 'jobs'),
    },
  );
  const events: BatchEvent[] = [];
  job.on((e) => events.push(e));
  const summary = await job.run();
  // The job's ExifTool ended with it.
  expect(exiftoolChildren()).toEqual([]);
  return { summary, events, engine };
}

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

const SIDECAR_TAGS = [
  'XMP-dc:Description',
  'XMP-dc:Subject',
  'XMP-lr:HierarchicalSubject',
  'XMP-xmp:CreatorTool',
];

describe('a job writing XMP', () => {
  it('merges into the sidecars there, whichever name they have, and names new ones photo.jpg.xmp', async () => {
    await jpeg('dt.jpg', 1);
    await copyFile(join(FIXTURES, 'darktable.jpg.xmp'), join(folder, 'dt.jpg.xmp'));
    await jpeg('lr.jpg', 2);
    await copyFile(join(FIXTURES, 'lightroom.xmp'), join(folder, 'lr.xmp'));
    await jpeg('new.jpg', 3);
    const before = {
      dt: await exiftoolX(join(folder, 'dt.jpg.xmp')),
      lr: await exiftoolX(join(folder, 'lr.xmp')),
    };
    const { summary } = await run(KEYWORDS, { keywords: { hierarchy: 'llava-desk' } });
    expect(summary).toMatchObject({ described: 3, failed: [] });
    expect((await readdir(folder)).sort()).toEqual(
      ['dt.jpg', 'dt.jpg.xmp', 'lr.jpg', 'lr.xmp', 'new.jpg', 'new.jpg.xmp'].sort(),
    );
    const dt = await exiftoolX(join(folder, 'dt.jpg.xmp'));
    expect(changedTags(before.dt, dt, SIDECAR_TAGS)).toEqual([]);
    expect(dt.get('XMP-dc:Description')).toEqual([KEYWORDS]);
    // Normalised: list markers and the full stop gone, "bicycles" and "Holidays" merged into
    // their twins ("holiday" was already there).
    expect(dt.get('XMP-dc:Subject')).toEqual([
      'darktable|format|jpg',
      'holiday',
      'Bicycle',
      'wall',
    ]);
    expect(dt.get('XMP-lr:HierarchicalSubject')).toEqual([
      'llava-desk|Bicycle',
      'llava-desk|wall',
      'llava-desk|Holidays',
    ]);
    const lr = await exiftoolX(join(folder, 'lr.xmp'));
    expect(changedTags(before.lr, lr, SIDECAR_TAGS)).toEqual([]);
    expect(lr.get('XMP-xmp:CreatorTool')).toEqual(before.lr.get('XMP-xmp:CreatorTool'));
    expect((await exiftoolX(join(folder, 'new.jpg.xmp'))).get('XMP-dc:Subject')).toEqual([
      'Bicycle',
      'wall',
      'Holidays',
    ]);
  });

  it('writes photo.xmp when asked, except where photo.jpg and photo.png would share it', async () => {
    await jpeg('one.jpg', 1);
    await jpeg('p.jpg', 2);
    await sharp(Buffer.alloc(8 * 8 * 3, 90), { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toFile(join(folder, 'p.png'));
    // A Lightroom sidecar of a raw file p.CR3 that is not in the job: not ours to touch.
    await copyFile(join(FIXTURES, 'lightroom.xmp'), join(folder, 'p.xmp'));
    const lightroom = await readFile(join(folder, 'p.xmp'));
    const { summary } = await run('bike', { xmpName: 'photo.xmp' });
    expect(summary).toMatchObject({ described: 3, failed: [] });
    expect((await readdir(folder)).sort()).toEqual(
      ['one.jpg', 'one.xmp', 'p.jpg', 'p.jpg.xmp', 'p.png', 'p.png.xmp', 'p.xmp'].sort(),
    );
    expect(await readFile(join(folder, 'p.xmp'))).toEqual(lightroom);
  });

  it("treats a sidecar's own description as the user's: fail, skip or replace it as told", async () => {
    await jpeg('a.jpg', 1);
    const at = join(folder, 'a.jpg.xmp');
    await copyFile(join(FIXTURES, 'digikam.jpg.xmp'), at);
    await run('Lunch', { preset: 'caption' }); // no x-default description yet: merged
    const mine = (await readFile(at, 'utf8')).replace('Lunch', 'My own caption');
    await writeFile(at, mine);

    const asked = await run('Dinner', { preset: 'detailed' });
    expect(asked.summary.failed).toEqual([
      expect.objectContaining({ path: 'a.jpg', code: 'OUTPUT_EXISTS' }),
    ]);
    expect(await readFile(at, 'utf8')).toBe(mine);
    const skipped = await run('Dinner', { preset: 'detailed', existing: 'skip' });
    expect(skipped.events).toContainEqual({ type: 'skipped', path: 'a.jpg', reason: 'exists' });
    expect(await readFile(at, 'utf8')).toBe(mine);
    const before = await exiftoolX(at);
    await run('Dinner', { preset: 'detailed', existing: 'overwrite' });
    const after = await exiftoolX(at);
    expect(after.get('XMP-dc:Description')).toEqual(['Dinner']);
    expect(changedTags(before, after, SIDECAR_TAGS)).toEqual([]);
  });

  it('fails an image whose sidecar is malformed before asking the engine, leaving it as it is', async () => {
    await jpeg('a.jpg', 1);
    await jpeg('b.jpg', 2);
    const broken = (await readFile(join(FIXTURES, 'darktable.jpg.xmp'), 'utf8')).slice(0, 700);
    await writeFile(join(folder, 'a.jpg.xmp'), broken);
    const { summary, engine } = await run('bike');
    expect(summary.failed).toEqual([
      expect.objectContaining({ path: 'a.jpg', code: 'XMP_MALFORMED' }),
    ]);
    expect(engine.asked).toHaveLength(1);
    expect(await readFile(join(folder, 'a.jpg.xmp'), 'utf8')).toBe(broken);
    expect((await readdir(folder)).sort()).toEqual(['a.jpg', 'a.jpg.xmp', 'b.jpg', 'b.jpg.xmp']);
  });

  it('keeps only vocabulary keywords and reports the others with the description', async () => {
    await jpeg('a.jpg', 1);
    const { events } = await run('dogs, sunset, Bikes, tree', {
      keywords: { vocabulary: 'Animals\n\tDog\nBicycle\n\t{bike}\n', case: 'lower', max: 5 },
    });
    const done = events.find((e): e is Extract<BatchEvent, { type: 'done' }> => e.type === 'done');
    expect(done?.record).toMatchObject({
      keywords: ['Dog', 'Bicycle'],
      notInVocabulary: ['sunset', 'tree'],
    });
    expect((await exiftoolX(join(folder, 'a.jpg.xmp'))).get('XMP-dc:Subject')).toEqual([
      'Dog',
      'Bicycle',
    ]);
  });
});

describe('a job with --embed', () => {
  it('writes into the image once, keeps the original, and records the new file', async () => {
    await jpeg('a.jpg', 1);
    const original = await readFile(join(folder, 'a.jpg'));
    const first = await run(KEYWORDS, { outputs: ['jsonl'], embed: true });
    expect(first.summary).toMatchObject({ described: 1, failed: [] });
    expect(await readFile(join(folder, 'a.jpg_original'))).toEqual(original);
    const x = await exiftoolX(join(folder, 'a.jpg'));
    expect(x.get('XMP-dc:Description')).toEqual([KEYWORDS]);
    expect(x.get('IPTC:Keywords')).toEqual(['Bicycle', 'wall', 'Holidays']);
    const row = JSON.parse(await readFile(join(folder, 'llava-desk.jsonl'), 'utf8')) as DoneRecord;
    expect(row.sha256).toBe(await sha256(join(folder, 'a.jpg')));

    const embedded = await readFile(join(folder, 'a.jpg'));
    const second = await run(KEYWORDS, { outputs: ['jsonl'], embed: true });
    expect(second.events).toContainEqual(
      expect.objectContaining({ type: 'skipped', path: 'a.jpg', reason: 'unchanged' }),
    );
    expect(await readFile(join(folder, 'a.jpg'))).toEqual(embedded);
    expect((await readdir(folder)).sort()).toEqual(['a.jpg', 'a.jpg_original', 'llava-desk.jsonl']);
  });

  it('keeps no copy with backup: false', async () => {
    await jpeg('a.jpg', 1);
    await run('bike', { outputs: ['txt'], embed: true, backup: false });
    expect((await readdir(folder)).sort()).toEqual(['a.jpg', 'a.txt']);
  });
});

describe('temp files a killed run left', () => {
  it("removes the job's own (sidecar and image copies) and nothing else", async () => {
    await jpeg('a.jpg', 1);
    const stale = ['.tmp-a.jpg.xmp.0123456789ab.xmp', '.tmp-a.jpg.0123456789ab.jpg'];
    const foreign = ['.tmp-other.jpg.0123456789ab.jpg', '.tmp-a.jpg.not-random'];
    for (const name of [...stale, ...foreign]) await writeFile(join(folder, name), 'x');
    await run('bike', { outputs: ['xmp'], embed: true });
    expect((await readdir(folder)).sort()).toEqual(
      ['a.jpg', 'a.jpg.xmp', 'a.jpg_original', ...foreign].sort(),
    );
  });
});

describe('tables', () => {
  it('escapes formula-looking cells in CSV and keeps the JSONL text as answered', async () => {
    await jpeg('a.jpg', 1);
    const answer = '=HYPERLINK("http://example.invalid","click")';
    await run(answer, { outputs: ['csv', 'jsonl'], preset: 'caption' });
    const [row] = parse(await readFile(join(folder, 'llava-desk.csv')), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(row?.['text']).toBe(`'${answer}`);
    const json = JSON.parse(await readFile(join(folder, 'llava-desk.jsonl'), 'utf8')) as DoneRecord;
    expect(json.text).toBe(answer);
  });

  it('writes no empty tables into a folder without images', async () => {
    await writeFile(join(folder, 'notes.md'), 'not an image\n');
    const { summary } = await run('x', { outputs: ['txt', 'csv', 'jsonl', 'xmp'] });
    expect(summary).toMatchObject({ total: 0, files: {} });
    expect(await readdir(folder)).toEqual(['notes.md']);
  });
});
