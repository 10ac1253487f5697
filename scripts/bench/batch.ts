// npm run bench:batch — describing a folder: llava-desk's batch job (parallel sequences in the
// engine process, images prepared ahead) against a sequential in-process loop (one ChatSession
// per image on a loaded VisionEngine) and against a loop of llama-mtmd-cli runs, on the
// realistic-shape pair, same prompt, tokens and threads, in one run. Images per minute into
// docs/BENCHMARKS.md.
//
// Knobs (env): BENCH_IMAGES (16), BENCH_SEQ_IMAGES (8), BENCH_CLI_IMAGES (4), BENCH_TOKENS
// (256: what the default "detailed" preset allows), BENCH_PARALLEL (8), BENCH_THREADS. Each
// image of the loops costs the same, so they run on the first images only and their rate is
// compared. On a 2-core CPU one image's CLIP encode and 600-token prompt (~6 s) are the same in
// every method; only generation gains from parallel sequences, so few tokens mean a small gain.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { batchContextSize, openEngineJob } from '../../src-main/batch/index.js';
import { ChatSession } from '../../src-main/engine/chat-session.js';
import { VisionEngine } from '../../src-main/engine/vision-engine.js';
import { prepareForEncoder, readEncoderSpec, readImageFile } from '../../src-main/imaging/index.js';
import {
  CACHE,
  MTMD_CLI,
  THREADS,
  machineLine,
  median,
  realisticPair,
  runMtmdCliOnce,
  writeReport,
  type Pair,
} from './common.js';
import { BATCHED_BENCH, measureDecodeRates } from './decode-rates.js';

const IMAGES = Number(process.env['BENCH_IMAGES'] ?? 16);
const SEQ_IMAGES = Math.min(IMAGES, Number(process.env['BENCH_SEQ_IMAGES'] ?? 8));
const CLI_IMAGES = Math.min(IMAGES, Number(process.env['BENCH_CLI_IMAGES'] ?? 4));
const TOKENS = Number(process.env['BENCH_TOKENS'] ?? 256);
const PARALLEL = Number(process.env['BENCH_PARALLEL'] ?? 8);
const PROMPT = 'Describe this image in detail.';
/** Sequences in flight the ceiling is measured at: one, the benchmark's, the whole folder. */
const IN_FLIGHT = [...new Set([1, PARALLEL, IMAGES])].sort((x, y) => x - y);
const CONTEXT = 2048;

interface Run {
  images: number;
  wallMs: number;
  tokens: number[];
  /** Per image, where the method reports them: CLIP encode ms, prompt and image tokens. */
  encodeMs?: number[];
  promptTokens?: number[];
  imageTokens?: number[];
}

const perMinute = (r: Run): number => (r.images * 60_000) / r.wallMs;

/** 16 different photo-like 336x336 JPEGs (what a camera folder holds), made once. */
async function photos(): Promise<string[]> {
  const dir = join(CACHE, 'batch-photos');
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let n = 0; n < IMAGES; n += 1) {
    const path = join(dir, `photo-${String(n).padStart(2, '0')}.jpg`);
    paths.push(path);
    if (existsSync(path)) continue;
    const size = 336;
    const raw = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        const i = (y * size + x) * 3;
        const ring = Math.sin(Math.hypot(x - 40 - n * 15, y - 60 - n * 9) / (5 + n)) * 60;
        raw[i] = 100 + ring + ((x * (n + 3)) % 29);
        raw[i + 1] = 80 + (y / size) * 120 - ring / 2 + n * 4;
        raw[i + 2] = 50 + (x / size) * 140 + ((x * y + n) % 17);
      }
    }
    await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 92 })
      .toFile(path);
  }
  return paths;
}

async function ours(pair: Pair, images: readonly string[]): Promise<Run> {
  const work = await mkdtemp(join(tmpdir(), 'llava-desk-bench-batch-'));
  try {
    const folder = join(work, 'photos');
    await mkdir(folder);
    for (const image of images) await cp(image, join(folder, image.split('/').pop() as string));
    const started = performance.now();
    const { job, close } = await openEngineJob(
      { folder, prompt: PROMPT, maxTokens: TOKENS, temperature: 0, outputs: ['txt', 'jsonl'] },
      { ...pair, dataDir: join(work, 'data'), parallel: PARALLEL, threads: THREADS },
    );
    const tokens: number[] = [];
    job.on((e) => {
      if (e.type === 'done') tokens.push(e.record.tokens);
    });
    try {
      const summary = await job.run();
      if (summary.failed.length > 0) throw new Error(JSON.stringify(summary.failed));
    } finally {
      close();
    }
    return { images: images.length, wallMs: performance.now() - started, tokens };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function sequential(pair: Pair, images: readonly string[]): Promise<Run> {
  const started = performance.now();
  const encoder = await readEncoderSpec(pair.mmprojPath);
  const engine = await VisionEngine.load({ ...pair, threads: THREADS, contextSize: CONTEXT });
  const tokens: number[] = [];
  const encodeMs: number[] = [];
  const promptTokens: number[] = [];
  const imageTokens: number[] = [];
  try {
    for (const path of images) {
      const prepared = await prepareForEncoder(await readImageFile(path), {
        encoder,
        thumbnail: false,
      });
      const bitmaps = prepared.bitmaps.map((b) => ({
        id: b.pixelHash,
        width: b.width,
        height: b.height,
        rgb: b.data,
      }));
      const session = new ChatSession(engine, { sampling: { temperature: 0, maxTokens: TOKENS } });
      const result = await session.ask({ text: PROMPT, images: bitmaps });
      tokens.push(result.tokens.length);
      encodeMs.push(result.stats.imageEncodeMs);
      promptTokens.push(result.stats.promptTokens);
      imageTokens.push(result.stats.imageTokens);
      await session.close();
    }
  } finally {
    await engine.dispose();
  }
  return {
    images: images.length,
    wallMs: performance.now() - started,
    tokens,
    encodeMs,
    promptTokens,
    imageTokens,
  };
}

async function cliLoop(pair: Pair, images: readonly string[]): Promise<Run> {
  const started = performance.now();
  for (const image of images) {
    await runMtmdCliOnce({ pair, image, prompt: PROMPT, tokens: TOKENS, context: CONTEXT });
  }
  return { images: images.length, wallMs: performance.now() - started, tokens: [] };
}

const fmtMin = (ms: number): string => `${(ms / 60_000).toFixed(1)} min`;

/**
 * The most images per minute any scheduler could reach here: per image, the CLIP encode (as
 * llava-desk measured it), the decode of its image tokens at the measured prompt speed (the
 * text around them left out) and its tokens at the measured speed of that many sequences.
 */
async function ceilingRows(pair: Pair, loop: Run, cli: Run): Promise<string[]> {
  const encodeMs = median(loop.encodeMs ?? []);
  const imageTokens = median(loop.imageTokens ?? []);
  const rates = await measureDecodeRates(
    pair.modelPath,
    IN_FLIGHT,
    median(loop.promptTokens ?? []),
    Math.min(TOKENS, 128),
  );
  return IN_FLIGHT.map((n) => {
    const generation = rates.generationPerSecond.get(n) ?? Number.NaN;
    const perImageMs =
      encodeMs + (imageTokens / rates.promptPerSecond) * 1000 + (TOKENS / generation) * 1000;
    const most = 60_000 / perImageMs;
    return (
      `| ${n} | ${generation.toFixed(1)} | ${(encodeMs / 1000).toFixed(2)} + ` +
      `${(imageTokens / rates.promptPerSecond).toFixed(2)} + ${(TOKENS / generation).toFixed(2)} s | ` +
      `${most.toFixed(2)} | ${(most / perMinute(cli)).toFixed(2)}x |`
    );
  });
}

async function main(): Promise<void> {
  for (const tool of [MTMD_CLI, BATCHED_BENCH]) {
    if (!existsSync(tool)) throw new Error(`${tool} is not built: run npm run build:native`);
  }
  const pair = await realisticPair();
  const images = await photos();
  const t0 = performance.now();
  console.error(`bench:batch: ours, ${IMAGES} images, ${PARALLEL} in parallel`);
  const a = await ours(pair, images);
  console.error(`bench:batch: sequential in-process loop, ${SEQ_IMAGES} images`);
  const b = await sequential(pair, images.slice(0, SEQ_IMAGES));
  console.error(`bench:batch: llama-mtmd-cli loop, ${CLI_IMAGES} images`);
  const c = await cliLoop(pair, images.slice(0, CLI_IMAGES));
  console.error('bench:batch: ceiling (llama-batched-bench)');
  const ceiling = await ceilingRows(pair, b, c);
  const total = performance.now() - t0;

  const ra = perMinute(a);
  const rows = [
    `| llava-desk describe (${PARALLEL} parallel sequences, engine process) | ${a.images} | ${fmtMin(a.wallMs)} | ${ra.toFixed(2)} | — | — |`,
    `| sequential in-process loop (VisionEngine + ChatSession per image) | ${b.images} | ${fmtMin(b.wallMs)} | ${perMinute(b).toFixed(2)} | ${(ra / perMinute(b)).toFixed(2)}x | ≥ 1.25x |`,
    `| loop of llama-mtmd-cli runs | ${c.images} | ${fmtMin(c.wallMs)} | ${perMinute(c).toFixed(2)} | ${(ra / perMinute(c)).toFixed(2)}x | ≥ 1.5x |`,
  ];
  const generated = [...a.tokens, ...b.tokens];
  const markdown = `
## Batch describe: images per minute (\`npm run bench:batch\`)

Pair: generated realistic shapes (CLIP ViT-L/14-336 f16 mmproj, 576 image tokens; 1.1B LLM in
Q8_0), random weights. ${IMAGES} different 336x336 JPEGs; prompt "${PROMPT}", ${TOKENS} tokens per
image (greedy; ${generated.length > 0 ? `${Math.min(...generated)}-${Math.max(...generated)}` : 'n/a'} generated), context ${CONTEXT} in the loops and
${batchContextSize({ folder: '', prompt: PROMPT, maxTokens: TOKENS })} per sequence in llava-desk.
Every method's time includes its model loads. Machine: ${machineLine()}. One run, ${fmtMin(total)} in all,
measured ${new Date().toISOString().slice(0, 10)}.

| method | images | wall time | images / min | llava-desk is | target |
|---|---|---|---|---|---|
${rows.join('\n')}

On a CPU each image's CLIP encode and ~600-token prompt cost the same in every method (they
are compute-bound, and this template's shared head is only a few tokens); parallel sequences
save generation time, one llama_decode per step advancing every image in flight, so the gain
grows with the tokens per image. The next images are decoded while the engine works. The loops
run on the first ${SEQ_IMAGES} and ${CLI_IMAGES} images: each of their images costs the same, so their rate
stands for the folder. llama-mtmd-cli reloads the (page-cached) model for every image.

The ceiling of any scheduler on this machine: upstream's \`llama-batched-bench\` (same llama.cpp
build, same model and threads) measures the LLM's prompt speed and its generation speed with
${IN_FLIGHT.join(', ')} sequences in flight (over a context as long as one image's prompt); an image
costs at least its CLIP encode (llava-desk's own, median of the loop), the decode of its ${median(b.imageTokens ?? [])}
image tokens and its ${TOKENS} generated tokens, and nothing else (no model load, no text, no
imaging):

| sequences in flight | generation tokens/s | per image at least: encode + image tokens + generation | images / min at most | over the CLI loop at most |
|---|---|---|---|---|
${ceiling.join('\n')}
`;
  await writeReport('batch', markdown);
  console.log(markdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
