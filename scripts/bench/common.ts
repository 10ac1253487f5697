// Shared pieces of the benchmarks: the realistic test pair, timing, upstream runs, report files.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { runProcess, type ProcessRun } from '../lib/run-process.js';
import { makeLlavaPair } from '../test-model/llava-pair.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CACHE = join(ROOT, '.cache', 'bench');
export const MTMD_CLI = join(ROOT, 'native', 'build', 'bin', 'llama-mtmd-cli');
export const THREADS = Number(process.env['BENCH_THREADS'] ?? availableParallelism());

export interface Pair {
  modelPath: string;
  mmprojPath: string;
}

/** CLIP ViT-L/14-336 + a TinyLlama-1.1B-shaped LLM in Q8_0, generated once and kept in .cache. */
export async function realisticPair(): Promise<Pair> {
  const dir = join(CACHE, 'realistic-seed1');
  const pair = {
    modelPath: join(dir, 'llava-model-q8_0.gguf'),
    mmprojPath: join(dir, 'llava-mmproj-f16.gguf'),
  };
  if (existsSync(pair.modelPath) && existsSync(pair.mmprojPath)) return pair;
  console.error('bench: writing the realistic-shape pair once (about a minute)...');
  const made = await makeLlavaPair({ outDir: dir, preset: 'realistic', seed: 1 });
  return { modelPath: made.modelPath, mmprojPath: made.mmprojPath };
}

export { runProcess, type ProcessRun };

/**
 * One single-shot, greedy `llama-mtmd-cli -p` run (benchmarks time the plain process); fails
 * with the end of its log when it exits non-zero.
 */
export async function runMtmdCliOnce(options: {
  pair: Pair;
  image: string;
  prompt: string;
  tokens: number;
  context: number;
  extraArgs?: readonly string[];
}): Promise<ProcessRun> {
  const { pair, image, prompt, tokens, context, extraArgs = [] } = options;
  const run = await runProcess(MTMD_CLI, [
    '-m',
    pair.modelPath,
    '--mmproj',
    pair.mmprojPath,
    '--image',
    image,
    '-p',
    prompt,
    '-n',
    String(tokens),
    '--temp',
    '0',
    '-t',
    String(THREADS),
    '-c',
    String(context),
    ...extraArgs,
  ]);
  if (run.code !== 0) throw new Error(`llama-mtmd-cli failed:\n${run.stderr.slice(-2000)}`);
  return run;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${THREADS} threads`;
}

/** Replaces the section between `<!-- bench:NAME -->` markers in docs/BENCHMARKS.md. */
export async function writeReport(name: string, markdown: string): Promise<void> {
  const path = join(ROOT, 'docs', 'BENCHMARKS.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let doc = existsSync(path) ? await readFile(path, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  doc =
    from >= 0 && to > from
      ? doc.slice(0, from) + block + doc.slice(to + end.length)
      : `${doc.trimEnd()}\n\n${block}\n`;
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  // Formatted as `npm run lint` checks it.
  const options = (await prettier.resolveConfig(path)) ?? {};
  await writeFile(path, await prettier.format(doc, { ...options, filepath: path }));
}

export function ratio(ours: number, theirs: number): string {
  return theirs > 0 ? `${(ours / theirs).toFixed(2)}x` : 'n/a';
}
