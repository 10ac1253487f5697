// Prints how far the image embeddings are from LLaVA's reference computation, patched and
// unpatched, for generated CLIP/MLP pairs of several shapes (docs/UPSTREAM.md).
// Usage: npm run vision-parity [-- --keep <dir>]   (needs `npm run build:native` first)

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ANYRES_CASES,
  PARITY_CASES,
  runAnyResCase,
  runParityCase,
  type Difference,
} from './vision-parity/parity.js';

const fmt = (d: Difference): string =>
  `${d.maxAbs.toPrecision(3)} (${d.relative.toExponential(2)})`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: 'string' } }, strict: true });
  const dir = values.keep ?? (await mkdtemp(join(tmpdir(), 'llava-desk-vision-parity-')));
  try {
    console.log('max abs difference (relative to the largest |reference value|)\n');
    console.log(
      '| pair | tokens x width | max abs ref | unpatched vs ref | ref, class token first only | patched (`embed`) vs ref | patched, encoder flash attention off | unpatched vs ref with both deviations | patched vs ref with ggml GELU | ggml GELU vs erf GELU (ref) |',
    );
    console.log(`|${'---|'.repeat(10)}`);
    for (const [i, parity] of PARITY_CASES.entries()) {
      const r = await runParityCase(parity, join(dir, `case-${i}`));
      console.log(
        `| ${r.name} | ${r.tokens} x ${r.width} | ${r.referenceMaxAbs.toPrecision(3)} | ${fmt(r.upstream)} | ${fmt(r.classTokenFirstOnly)} | ${fmt(r.app)} | ${fmt(r.appNoFlashAttn)} | ${fmt(r.upstreamVsDeviations)} | ${fmt(r.appVsGgmlGelu)} | ${fmt(r.geluEffect)} |`,
      );
      if (r.driverVsApp.maxAbs !== 0) {
        console.log(`  (note: the patched driver differs from embed by ${fmt(r.driverVsApp)})`);
      }
    }
    console.log("\nLLaVA-1.6 packing (42 px tiles, patch 14) against LLaVA-NeXT's AnyRes\n");
    console.log(
      '| image | reference tokens | `embed` tokens | unpatched tokens | max abs ref | patched (`embed`) vs ref | patched, encoder flash attention off |',
    );
    console.log(`|${'---|'.repeat(7)}`);
    for (const [i, parity] of ANYRES_CASES.entries()) {
      const r = await runAnyResCase(parity, join(dir, `anyres-${i}`));
      console.log(
        `| ${r.name} | ${r.referenceTokens} | ${r.tokens} | ${r.upstreamTokens} | ${r.referenceMaxAbs.toPrecision(3)} | ${fmt(r.app)} | ${fmt(r.appNoFlashAttn)} |`,
      );
    }
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
