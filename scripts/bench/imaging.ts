// Benchmark: a 24-megapixel JPEG to encoder-ready pixels, two ways.
//   sharp:   llava-desk's pipeline as it runs when a question is answered (readImageFile +
//            prepareForEncoder: decode with shrink-on-load, orient, pad to square, bicubic to 336,
//            pixel hash; no thumbnail, as in ImageService.prepare and `ask`), then the 336 x 336
//            bitmap handed to libmtmd and tokenized (its own preprocessing of a sized image).
//   sharp, adding: the same with the WebP thumbnail and the file's sha256 (the store's key), as
//            when an image is added to a chat.
//   runtime: libmtmd's own path: mtmd_helper_bitmap_init_from_file (stb_image, full-size decode,
//            SHA-256 id), then mtmd_tokenize (pad to square, resize, normalise).
// Both end at the same point (preprocessed images inside mtmd), neither encodes. Each path runs in
// its own child process so that its peak RSS is its own.
//
// Usage: npm run bench:imaging -- [--reps N per round] [--width W --height H]
//        (tsx scripts/bench/imaging.ts ...)

import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

import {
  loadNativeBridge,
  type NativeAddon,
  type NativeBitmap,
  type NativeMtmd,
} from '../../src-main/engine/native/binding.js';
import { prepareForEncoder, readImageFile, sourceSha256 } from '../../src-main/imaging/index.js';
import { makeLlavaPair } from '../test-model/llava-pair.js';
import { machineLine, median, writeReport } from './common.js';

const PATHS = ['sharp', 'sharp-add', 'runtime'] as const;
type PathName = (typeof PATHS)[number];

const PATH_LABELS: Record<PathName, string> = {
  sharp: 'sharp (prepareForEncoder, encoder pixels)',
  'sharp-add': 'sharp + thumbnail + file sha256 (adding to a chat)',
  runtime: 'libmtmd (stb_image + preprocess)',
};

function isPathName(value: string | undefined): value is PathName {
  return (PATHS as readonly (string | undefined)[]).includes(value);
}

interface ChildResult {
  path: PathName;
  ms: number[];
  imageTokens: number;
  /** Peak RSS after loading the model and mmproj, before the first image (MiB). */
  baselineMiB: number;
  peakMiB: number;
}

/** The benchmark build of the native bridge: the product's addon plus native/bench/imaging_bench.cpp. */
interface ImagingBenchAddon extends NativeAddon {
  mtmdBitmapFromFile(mtmd: NativeMtmd, path: string): Promise<NativeBitmap>;
  mtmdTokenize(
    mtmd: NativeMtmd,
    text: string,
    bitmaps: readonly NativeBitmap[],
  ): Promise<{ imageTokens: number; textTokens: number; tokenizeMs: number }>;
}

function hasImagingBench(addon: NativeAddon): addon is ImagingBenchAddon {
  return typeof (addon as Partial<ImagingBenchAddon>).mtmdTokenize === 'function';
}

function peakMiB(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

// ---- child: one path, several repetitions -----------------------------------------------------

async function runChild(
  path: PathName,
  photo: string,
  model: string,
  mmproj: string,
  reps: number,
) {
  const { addon } = await loadNativeBridge({
    gpu: false,
    logLevel: 'none',
    nativeBuildDir: fileURLToPath(new URL('../../native/build/bench', import.meta.url)),
  });
  if (!hasImagingBench(addon)) {
    throw new Error(
      'native/build/bench lacks the benchmark addon: run "node scripts/build-native.mjs"',
    );
  }
  const llm = await addon.loadModel(model);
  const mtmd = await addon.initMtmd(llm, mmproj, { nThreads: 2, warmup: false, cacheEntries: 0 });
  const prompt = `USER: ${mtmd.getInfo().marker}\nDescribe the image. ASSISTANT:`;
  const baselineMiB = peakMiB();
  const ms: number[] = [];
  let imageTokens = 0;
  // One untimed repetition first: per-image cost in a running app, not the first call's set-up
  // (libvips' and the loader's first use, JIT), on both paths alike.
  for (let rep = -1; rep < reps; rep++) {
    const started = performance.now();
    let bitmap: NativeBitmap;
    if (path !== 'runtime') {
      const input = await readImageFile(photo);
      const adding = path === 'sharp-add';
      const prepared = await prepareForEncoder(input, { detail: 'standard', thumbnail: adding });
      if (adding) sourceSha256(input.bytes);
      const [square] = prepared.bitmaps;
      if (!square) throw new Error('no bitmap prepared');
      bitmap = mtmd.createBitmap(square.width, square.height, square.data, square.pixelHash);
    } else {
      bitmap = await addon.mtmdBitmapFromFile(mtmd, photo);
    }
    const tokens = await addon.mtmdTokenize(mtmd, prompt, [bitmap]);
    if (rep >= 0) ms.push(performance.now() - started);
    imageTokens = tokens.imageTokens;
    bitmap.dispose();
  }
  mtmd.dispose();
  llm.dispose();
  const result: ChildResult = { path, ms, imageTokens, baselineMiB, peakMiB: peakMiB() };
  process.send?.(result);
}

// ---- parent -----------------------------------------------------------------------------------

function runPath(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', ...args], { stdio: 'inherit' });
    let result: ChildResult | undefined;
    child.on('message', (message) => {
      result = message as ChildResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the ${args[0] ?? ''} benchmark child exited with ${String(code)}`));
    });
  });
}

/** A photo-sized JPEG with detail everywhere: bit patterns with noise on top. */
async function makePhoto(path: string, width: number, height: number): Promise<number> {
  const data = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const grain = (seed >>> 24) & 31;
      const at = (y * width + x) * 3;
      data[at] = ((x ^ y) & 255) ^ grain;
      data[at + 1] = ((x * 3 + y * 5) & 255) ^ grain;
      data[at + 2] = (((x * y) >> 6) & 255) ^ grain;
    }
  }
  const jpeg = await sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  await writeFile(path, jpeg);
  return jpeg.length;
}

const ROUNDS = 3;

/** The rounds of one path as one result: all timings, the highest peaks. */
function pool(results: readonly ChildResult[]): ChildResult {
  const [first] = results;
  if (!first) throw new Error('no results');
  return {
    path: first.path,
    ms: results.flatMap((r) => r.ms),
    imageTokens: first.imageTokens,
    baselineMiB: Math.max(...results.map((r) => r.baselineMiB)),
    peakMiB: Math.max(...results.map((r) => r.peakMiB)),
  };
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive integer`);
  return value;
}

async function runParent(): Promise<void> {
  const reps = option('--reps', 3);
  const width = option('--width', 6000);
  const height = option('--height', 4000);
  const dir = await mkdtemp(join(tmpdir(), 'llava-desk-bench-imaging-'));
  try {
    const photo = join(dir, 'photo.jpg');
    const bytes = await makePhoto(photo, width, height);
    // A tiny LLaVA-1.5 pair with a full-size (336 px) vision input: preprocessing is what is timed.
    const pair = await makeLlavaPair({ outDir: dir, seed: 1, vision: { imageSize: 336 } });
    const args = [photo, pair.modelPath, pair.mmprojPath, String(reps)];
    // Alternating rounds, so that changes in machine load fall on both paths alike.
    const rounds: ChildResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of PATHS) rounds.push(await runPath([path, ...args]));
    }
    const [sharpPath, addingPath, runtimePath] = PATHS.map((path) =>
      pool(rounds.filter((r) => r.path === path)),
    );
    if (!sharpPath || !addingPath || !runtimePath) throw new Error('a path has no results');
    const megapixels = ((width * height) / 1e6).toFixed(1);
    const lines: string[] = [
      "## Imaging: sharp pipeline against libmtmd's own loader (`npm run bench:imaging`)",
      '',
      `${width} x ${height} JPEG (${megapixels} MP, ${(bytes / 1e6).toFixed(1)} MB) to ` +
        `encoder-ready 336 x 336: ${ROUNDS} alternating rounds of ${reps} timed repetitions per ` +
        'path (after one untimed), each round in its own child process. Both paths end with the image preprocessed inside ' +
        `libmtmd (tokenized, not encoded). Machine: ${machineLine()}. Measured ` +
        `${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| path | median ms | min ms | max ms | image tokens | peak RSS MiB | over baseline MiB |',
      '|---|---:|---:|---:|---:|---:|---:|',
    ];
    for (const r of [sharpPath, addingPath, runtimePath]) {
      lines.push(
        `| ${PATH_LABELS[r.path]} | ${median(r.ms).toFixed(0)} | ${Math.min(...r.ms).toFixed(0)} | ` +
          `${Math.max(...r.ms).toFixed(0)} | ${r.imageTokens} | ${r.peakMiB.toFixed(0)} | ` +
          `${(r.peakMiB - r.baselineMiB).toFixed(0)} |`,
      );
    }
    const speedup = median(runtimePath.ms) / median(sharpPath.ms);
    const fastest = Math.min(...runtimePath.ms) / Math.min(...sharpPath.ms);
    const adding = median(runtimePath.ms) / median(addingPath.ms);
    lines.push(
      '',
      'The first sharp row is what answering a question runs (`ImageService.prepare`, `ask`): ' +
        'decode with shrink-on-load, orient, pad, bicubic resize, pixel hash. The second adds ' +
        "what adding an image to a chat does besides: the WebP thumbnail and the file's sha256 " +
        '(the image store hashes the file; `prepareForEncoder` does not hash it again).',
      '',
      `sharp path: ${speedup.toFixed(2)}x faster by median, ${fastest.toFixed(2)}x by best run ` +
        `(target: at least 3x); adding to a chat ${adding.toFixed(2)}x by median. Load average during the run: ${loadavg()
          .map((l) => l.toFixed(1))
          .join(', ')}.`,
    );
    const report = lines.join('\n');
    console.log(report);
    await writeReport('imaging', report);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const [path, photo, model, mmproj, reps] = process.argv.slice(childAt + 1);
  if (!isPathName(path) || !photo || !model || !mmproj || !reps) {
    throw new Error(`usage: --child ${PATHS.join('|')} <photo> <model> <mmproj> <reps>`);
  }
  await runChild(path, photo, model, mmproj, Number(reps));
} else {
  await runParent();
}
