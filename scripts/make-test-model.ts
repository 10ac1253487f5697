// Writes a deterministic synthetic LLaVA-1.5 GGUF pair (LLM + mmproj).
// Usage: tsx scripts/make-test-model.ts --out <dir> [--preset tiny|realistic] [--seed N]
//        [--llm-type f32|f16|q8_0|q4_0] [--mmproj-type f16|f32]

import { parseArgs } from 'node:util';

import {
  makeLlavaPair,
  type LlavaPreset,
  type LlmTensorType,
  type MmprojTensorType,
} from './test-model/llava-pair.js';

const USAGE =
  'usage: tsx scripts/make-test-model.ts --out <dir> [--preset tiny|realistic] [--seed N] ' +
  '[--llm-type f32|f16|q8_0|q4_0] [--mmproj-type f16|f32] [--quiet]';

function pick<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw Object.assign(new Error(`${flag} must be one of ${allowed.join(', ')}`), { code: 'USAGE' });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', short: 'o' },
      preset: { type: 'string' },
      seed: { type: 'string' },
      'llm-type': { type: 'string' },
      'mmproj-type': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.out) throw Object.assign(new Error('--out is required'), { code: 'USAGE' });
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw Object.assign(new Error('--seed must be an integer'), { code: 'USAGE' });
  }

  let lastReport = 0;
  const started = Date.now();
  const result = await makeLlavaPair({
    outDir: values.out,
    seed,
    preset: pick<LlavaPreset>(values.preset, ['tiny', 'realistic'], '--preset'),
    llmType: pick<LlmTensorType>(values['llm-type'], ['f32', 'f16', 'q8_0', 'q4_0'], '--llm-type'),
    mmprojType: pick<MmprojTensorType>(values['mmproj-type'], ['f16', 'f32'], '--mmproj-type'),
    onProgress: (file, done, total) => {
      const now = Date.now();
      if (values.quiet || (now - lastReport < 2000 && done < total)) return;
      lastReport = now;
      const pct = ((100 * done) / total).toFixed(0);
      process.stderr.write(`${file}: ${pct}% of ${(total / 2 ** 20).toFixed(1)} MiB\n`);
    },
  });
  if (!values.quiet) {
    process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  console.log(result.modelPath);
  console.log(result.mmprojPath);
}

main().catch((error: unknown) => {
  const err = error as { code?: unknown; message?: unknown };
  console.error(String(err.message ?? error));
  if (err.code === 'USAGE' || err.code === 'LLAVA_PAIR_BAD_OPTION') console.error(USAGE);
  process.exitCode = 1;
});
