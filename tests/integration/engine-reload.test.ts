import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { EngineClient } from '../../src-main/engine/engine-client.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';

// The app reloads its one engine process with other sizes (a batch job's sequences) while chats
// may be sending: a call that reaches the process during the reload waits for the new model.

let dir: string;
let pair: LlavaPairResult;
let image: TestImage;
let engine: EngineClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-engine-reload-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 17 });
  image = await makeTestImage(dir, 'checker', { width: 48, height: 32 }, 'checker');
  engine = new EngineClient();
}, 120_000);

afterAll(async () => {
  engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('reloading the engine process', () => {
  it('answers a call sent while the process reloads, with the new load', async () => {
    const base = { modelPath: pair.modelPath, mmprojPath: pair.mmprojPath, threads: 1 };
    expect((await engine.load({ ...base, contextSize: 512 })).parallel).toBe(1);
    // Not awaited: the question goes out right behind the reload.
    const reloading = engine.load({ ...base, contextSize: 768, parallel: 3 });
    const answer = await engine.complete({
      sessionId: 'during-reload',
      conversation: { turns: [{ user: 'What is this?', imageCount: 1 }] },
      images: [image],
      sampling: { temperature: 0, maxTokens: 4 },
    });
    expect(answer.text.length).toBeGreaterThan(0);
    const info = await reloading;
    expect(info.parallel).toBe(3);
    expect(info.contextSize).toBe(768);
  }, 120_000);
});
