import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { ExifTool } from 'exiftool-vendored';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { parseKeywords } from '../../src-main/batch/presets.js';
import { makeBatchTree, type BatchTree } from '../fixtures/batch-tree.js';
import { runCli } from '../support/run-cli.js';

const RUNNER = fileURLToPath(new URL('../fixtures/batch-cli-runner.ts', import.meta.url));
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

let dir: string;
let pair: LlavaPairResult;
let tree: BatchTree;

interface Row {
  path: string;
  sha256: string;
  width: number;
  height: number;
  model: string;
  prompt: string;
  text: string;
  tokens: number;
  ms: number;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-describe-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 5 });
  tree = await makeBatchTree(dir, join(dir, 'outside'));
});

afterAll(async () => {
  await xmpReader.end();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cliArgs(folder: string, ...extra: string[]): string[] {
  return [
    'describe',
    folder,
    '--model',
    pair.modelPath,
    '--mmproj',
    pair.mmprojPath,
    '--threads',
    '1',
    '--data-dir',
    join(dir, 'data'),
    ...extra,
  ];
}

const inProcess = (...args: string[]) => runCli(args);

/** The CLI in a child process (its own process group, so a kill takes its engine too). */
function child(args: string[], killAfterDone?: number) {
  const proc = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let done = 0;
  let killed = false;
  proc.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    done = out.split('\n').filter((l) => l.startsWith('{"type":"done"')).length;
    if (killAfterDone !== undefined && done >= killAfterDone && !killed) {
      killed = true;
      process.kill(-(proc.pid as number), 'SIGKILL');
    }
  });
  proc.stderr.resume();
  return new Promise<{ code: number | null; signal: string | null; events: Event[] }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, events: parseEvents(out) })),
  );
}

type Event = { type: string; path?: string; reason?: string; code?: string; text?: string };

function parseEvents(out: string): Event[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Event];
      } catch {
        return []; // the line the kill cut
      }
    });
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function allFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

// ExifTool itself (bundled by exiftool-vendored, no system install) reads the sidecars back.
const xmpReader = new ExifTool({ maxProcs: 1 });

async function exiftool(file: string): Promise<{ Description?: unknown; Subject?: unknown }> {
  return xmpReader.readRaw(file, { readArgs: ['-XMP-dc:Description', '-XMP-dc:Subject'] });
}

const SIDE = {
  'a.jpg': ['a.jpg.txt', 'a.jpg.xmp'],
  'a.png': ['a.png.txt', 'a.png.xmp'],
  'café ☕.png': ['café ☕.txt', 'café ☕.png.xmp'],
  'trips/deep/deeper/日本語.png': [
    'trips/deep/deeper/日本語.txt',
    'trips/deep/deeper/日本語.png.xmp',
  ],
  'trips/été 2024/plage.jpeg': ['trips/été 2024/plage.txt', 'trips/été 2024/plage.jpeg.xmp'],
} as const;

describe('llava-desk describe on a folder tree', () => {
  const args = () =>
    cliArgs(
      tree.root,
      '--recursive',
      '--out',
      'txt,jsonl,csv,xmp',
      '--skip-existing',
      '--parallel',
      '2',
      '--max-tokens',
      '96',
      '--json',
    );

  it('is killed mid-job (SIGKILL), runs again, and leaves exactly one correct output per image', async () => {
    const killed = await child(args(), 1);
    expect(killed.signal).toBe('SIGKILL');
    const firstDone = killed.events.filter((e) => e.type === 'done').map((e) => e.path);
    expect(firstDone.length).toBeGreaterThanOrEqual(1);
    expect(firstDone.length).toBeLessThan(tree.images.length);

    const again = await child(args());
    expect(again.code).toBe(5); // the corrupt image failed, every other one is described
    const byType = (t: string) => again.events.filter((e) => e.type === t);
    expect(byType('failed')).toEqual([
      expect.objectContaining({ path: 'trips/broken.jpg', code: 'IMAGE_CORRUPT' }),
    ]);
    // What the killed run finished (some of it after its last event got out) is not redone.
    const unchanged = byType('skipped')
      .filter((e) => e.reason === 'unchanged')
      .map((e) => e.path);
    expect(unchanged).toEqual(expect.arrayContaining(firstDone));
    expect(unchanged.length).toBeLessThan(tree.images.length);
    expect(byType('skipped')).toContainEqual(
      expect.objectContaining({ path: tree.foreign.image, reason: 'exists' }),
    );
    const doneNow = byType('done').map((e) => e.path);
    expect([...unchanged, ...doneNow].sort()).toEqual([...tree.images].sort());
    const queued = again.events[0] as Event & { ignored: Array<{ path: string; reason: string }> };
    expect(queued.ignored).toEqual(
      expect.arrayContaining([
        { path: 'trips/deep/loop', reason: 'loop' },
        { path: 'outside-link', reason: 'outside' },
      ]),
    );

    // JSONL and CSV: one row per described image, the same rows, parsed by libraries.
    const jsonl = (await readFile(join(tree.root, 'llava-desk.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Row);
    expect(jsonl.map((r) => r.path)).toEqual([...tree.images].sort());
    const csv = parse(await readFile(join(tree.root, 'llava-desk.csv')), {
      columns: true,
      bom: true,
    }) as Array<Record<string, string>>;
    expect(csv.map((r) => r['path'])).toEqual(jsonl.map((r) => r.path));
    for (const [i, row] of jsonl.entries()) {
      const image = join(tree.root, row.path);
      expect(row.sha256).toBe(await sha256(image));
      const meta = await sharp(image).metadata();
      expect([row.width, row.height]).toEqual([meta.width, meta.height]);
      expect(row.model).toBe('llava-model-f16.gguf');
      expect(row.prompt).toBe('Describe this image in detail.');
      expect(row.text.length).toBeGreaterThan(0);
      expect(row.tokens).toBeGreaterThan(0);
      expect(csv[i]).toMatchObject({
        text: row.text,
        sha256: row.sha256,
        tokens: String(row.tokens),
      });
      const [txt, xmp] = SIDE[row.path as keyof typeof SIDE];
      expect(await readFile(join(tree.root, txt), 'utf8')).toBe(`${row.text}\n`);
      expect(String((await exiftool(join(tree.root, xmp))).Description)).toBe(
        row.text.replace(NOT_XML, ''),
      );
    }

    // Exactly the expected files: no duplicates, no temp files, nothing for the failures.
    const files = (await allFiles(tree.root)).map((f) => f.slice(tree.root.length + 1)).sort();
    const expected = [
      ...tree.images,
      ...tree.corrupt,
      tree.foreign.image,
      tree.foreign.sidecar,
      'notes.md',
      'llava-desk.jsonl',
      'llava-desk.csv',
      ...Object.values(SIDE).flat(),
    ].sort();
    expect(files).toEqual(expected);
    expect(await readFile(join(tree.root, tree.foreign.sidecar), 'utf8')).toBe(tree.foreign.text);
    expect(await readdir(join(dir, 'outside'))).toEqual(['elsewhere.png']);
  });

  it('describes again only an image whose content changed', async () => {
    const before = await readFile(join(tree.root, 'a.png.txt'), 'utf8');
    await copyFile(join(tree.root, 'trips/été 2024/plage.jpeg'), join(tree.root, 'a.png'));
    const run = await inProcess(...args());
    expect(run.code).toBe(5);
    const events = parseEvents(run.out);
    expect(events.filter((e) => e.type === 'done').map((e) => e.path)).toEqual(['a.png']);
    expect(await readFile(join(tree.root, 'a.png.txt'), 'utf8')).not.toBe(before);
    const rows = (await readFile(join(tree.root, 'llava-desk.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    expect(rows.find((r) => r.path === 'a.png')?.sha256).toBe(
      await sha256(join(tree.root, 'a.png')),
    );
    expect(rows).toHaveLength(tree.images.length);
  });

  it('writes dc:subject for the keywords preset, read back by exiftool', async () => {
    const folder = join(dir, 'kw');
    await mkdir(folder);
    await copyFile(join(tree.root, 'café ☕.png'), join(folder, 'one.png'));
    const run = await inProcess(...cliArgs(folder, '--preset', 'keywords', '--out', 'xmp,jsonl'));
    expect(run.code, run.err).toBe(0);
    const row = JSON.parse(await readFile(join(folder, 'llava-desk.jsonl'), 'utf8')) as Row;
    const read = await exiftool(join(folder, 'one.png.xmp'));
    const subject = ([] as unknown[]).concat(read.Subject ?? []).map(String);
    expect(subject).toEqual(parseKeywords(row.text).map((k) => k.replace(NOT_XML, '')));
    expect(String(read.Description)).toBe(row.text.replace(NOT_XML, ''));
    await expect(stat(join(folder, 'one.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('shows a progress bar with count, rate and ETA on a terminal', async () => {
    const folder = join(dir, 'tty');
    await mkdir(folder);
    for (const name of ['a.png', 'a.jpg'])
      await copyFile(join(tree.root, name), join(folder, name));
    const { code, out } = await runCli(cliArgs(folder, '--max-tokens', '4'), { isTty: true });
    expect(code).toBe(0);
    expect(out).toMatch(/\[#{24}\] 2\/2 {2}[\d.]+\/min {2}ETA \d+s/);
  });

  it('exits 2 on usage errors', async () => {
    const both = await inProcess(...cliArgs(tree.root, '--prompt', 'x', '--preset', 'caption'));
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--prompt or --preset/);
    expect((await inProcess(...cliArgs(tree.root, '--skip-existing', '--overwrite'))).code).toBe(2);
    expect((await inProcess(...cliArgs(tree.root, '--out', 'txt,pdf'))).code).toBe(2);
    expect((await inProcess(...cliArgs(tree.root, '--preset', 'poem'))).code).toBe(2);
    expect((await inProcess(...cliArgs(join(dir, 'missing')))).code).toBe(2);
  });
});
