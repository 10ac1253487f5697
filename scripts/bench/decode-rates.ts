// Prompt and generation speed of the LLM on this machine at several sequences in flight, measured
// by upstream's llama-batched-bench (built from the same llama.cpp source) on the same model: what
// any scheduler of parallel sequences can reach at most, the batch benchmark's ceiling.
import { join } from 'node:path';
import { ROOT, THREADS, runProcess } from './common.js';

export const BATCHED_BENCH = join(ROOT, 'native', 'build', 'bin', 'llama-batched-bench');

export interface DecodeRates {
  /** Prompt tokens per second (one prompt, the shared-prompt mode: evaluated once). */
  promptPerSecond: number;
  /** Generated tokens per second over all sequences, by sequences in flight. */
  generationPerSecond: Map<number, number>;
}

interface Row {
  parallel: number;
  promptPerSecond: number;
  generationPerSecond: number;
}

/** The rows of llama-batched-bench's table: | PP | TG | B | N_KV | T_PP | S_PP | T_TG | S_TG | ... */
function parseRows(output: string): Row[] {
  const rows: Row[] = [];
  for (const line of output.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 10) continue;
    const [parallel, promptPerSecond, generationPerSecond] = [cells[3], cells[6], cells[8]].map(
      Number,
    );
    if (!parallel || !promptPerSecond || !generationPerSecond) continue;
    rows.push({ parallel, promptPerSecond, generationPerSecond });
  }
  return rows;
}

/**
 * Runs llama-batched-bench with a prompt of `promptTokens` shared by every sequence (so that each
 * generates over a context as long as one image's) and `generateTokens` generated per sequence.
 */
export async function measureDecodeRates(
  modelPath: string,
  parallel: readonly number[],
  promptTokens: number,
  generateTokens: number,
): Promise<DecodeRates> {
  const most = Math.max(...parallel);
  const run = await runProcess(BATCHED_BENCH, [
    '-m',
    modelPath,
    '-c',
    String((promptTokens + generateTokens + 64) * most),
    '-b',
    '2048',
    '-ub',
    '512',
    '-npp',
    String(promptTokens),
    '-ntg',
    String(generateTokens),
    '-npl',
    parallel.join(','),
    '-pps',
    '-fa',
    'on',
    '-t',
    String(THREADS),
  ]);
  const rows = parseRows(run.stdout + run.stderr);
  if (run.code !== 0 || rows.length !== parallel.length) {
    throw new Error(`llama-batched-bench failed:\n${(run.stdout + run.stderr).slice(-2000)}`);
  }
  return {
    promptPerSecond: Math.max(...rows.map((r) => r.promptPerSecond)),
    generationPerSecond: new Map(rows.map((r) => [r.parallel, r.generationPerSecond])),
  };
}
