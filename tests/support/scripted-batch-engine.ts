// A stand-in for the vision engine in job tests that are about what happens to files: it answers
// each image with text the test chose. (The real engine's path through the same job is covered
// by tests/integration/batch-*.test.ts with the tiny LLaVA pair.)
import type { BatchEngine } from '../../src-main/batch/job.js';
import type { CompletionRequest, ManyOutcome } from '../../src-main/engine/vision-engine.js';

export class ScriptedEngine implements BatchEngine {
  /** Images asked about, in order (their pixel-hash ids). */
  asked: string[] = [];
  constructor(readonly answer: string) {}

  async completeMany(requests: CompletionRequest[]): Promise<ManyOutcome[]> {
    return requests.map((r) => {
      this.asked.push(r.images[0]?.id ?? '');
      return {
        ok: true,
        value: {
          text: this.answer,
          tokens: [1, 2, 3],
          stopReason: 'eog',
          stats: {
            imageEncodeMs: 0,
            imageTokens: 0,
            cachedImages: 0,
            promptTokens: 0,
            promptMs: 0,
            reusedTokens: 0,
            generatedTokens: 3,
            tokensPerSecond: 0,
            timeToFirstTokenMs: 0,
            totalMs: 5,
          },
        },
      } satisfies ManyOutcome;
    });
  }
}
