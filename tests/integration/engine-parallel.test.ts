// Answers side by side in one engine: the real engine on the random tiny pair (plumbing: which
// answer gets which tokens, when, and what happens to the others when one stops).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AskResult } from '../../src-main/api/engine.js';
import type { CompletionRequest } from '../../src-main/engine/engine-requests.js';
import { VisionEngine } from '../../src-main/engine/vision-engine.js';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';

let dir: string;
let engine: VisionEngine;
let gradient: TestImage;
let checker: TestImage;
let stripes: TestImage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-parallel-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 7 });
  const size = { width: 56, height: 56 };
  gradient = await makeTestImage(dir, 'gradient', size, 'gradient');
  checker = await makeTestImage(dir, 'checker', size, 'checker');
  stripes = await makeTestImage(dir, 'stripes', size, 'stripes');
  engine = await VisionEngine.load({
    modelPath: pair.modelPath,
    mmprojPath: pair.mmprojPath,
    threads: 1,
    contextSize: 1024,
    parallel: 2,
  });
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

let sessions = 0;
function request(image: TestImage, maxTokens: number, text = 'Describe this.'): CompletionRequest {
  sessions += 1;
  return {
    sessionId: `parallel-${sessions}`,
    conversation: { turns: [{ user: text, imageCount: 1 }] },
    images: [image],
    // Without an end-of-generation stop every answer runs to its length.
    sampling: { temperature: 0, maxTokens },
  };
}

/** Which request each streamed token belonged to, in the order they arrived. */
function recorder(): { order: string[]; onToken: (name: string) => () => void } {
  const order: string[] = [];
  return { order, onToken: (name) => () => order.push(name) };
}

describe('answers side by side in one engine', () => {
  it('generates two requests together, token by token, each answer as if asked alone', async () => {
    const aloneA = await engine.complete(request(gradient, 24));
    const aloneB = await engine.complete(request(checker, 24));
    const { order, onToken } = recorder();
    const [a, b] = await Promise.all([
      engine.complete(request(gradient, 24), { onToken: onToken('a') }),
      engine.complete(request(checker, 24), { onToken: onToken('b') }),
    ]);
    expect(a.tokens).toEqual(aloneA.tokens);
    expect(b.tokens).toEqual(aloneB.tokens);
    // Served one after another, every 'a' would come before the first 'b'.
    const firstB = order.indexOf('b');
    expect(firstB).toBeGreaterThan(0);
    expect(order.lastIndexOf('a')).toBeGreaterThan(firstB);
    // Once both run, each step gives each one token.
    const both = order.slice(firstB);
    expect(both.filter((n) => n === 'a').length).toBeGreaterThan(a.tokens.length / 2);
  });

  it('stops one answer without touching the other', async () => {
    const alone = await engine.complete(request(checker, 30));
    const controller = new AbortController();
    let seen = 0;
    const [stopped, whole] = await Promise.all([
      engine.complete(request(stripes, 30), {
        signal: controller.signal,
        onToken: () => {
          seen += 1;
          if (seen === 3) controller.abort();
        },
      }),
      engine.complete(request(checker, 30)),
    ]);
    expect(stopped.stopReason).toBe('aborted');
    expect(stopped.tokens).toHaveLength(3);
    expect(whole.stopReason).not.toBe('aborted');
    expect(whole.tokens).toEqual(alone.tokens);
  });

  it('gives a question a batch item’s sequence when every sequence is busy (PREEMPTED item)', async () => {
    let batchTokens = 0;
    let release: () => void = () => undefined;
    const batchRunning = new Promise<void>((resolve) => (release = resolve));
    const many = engine.completeMany([request(gradient, 400), request(checker, 400)], {
      onToken: () => {
        batchTokens += 1;
        // Both items are writing their answers: every sequence is busy.
        if (batchTokens === 6) release();
      },
    });
    await batchRunning;
    let answeredAt = 0;
    const question = engine.complete(request(stripes, 8)).then((r: AskResult) => {
      answeredAt = performance.now();
      return r;
    });
    const outcomes = await many;
    const manyDoneAt = performance.now();
    const answer = await question;
    expect(answer.tokens).toHaveLength(8);
    expect(answeredAt).toBeLessThan(manyDoneAt);
    const codes = outcomes.map((o) => (o.ok ? 'ok' : o.error.code));
    expect(codes.sort()).toEqual(['PREEMPTED', 'ok']);
    const kept = outcomes.find((o) => o.ok);
    expect(kept?.ok && kept.value.tokens.length).toBe(400);
  });

  it('runs a session’s answers one after another: the second reuses the first’s cache', async () => {
    const first = request(gradient, 6, 'What is this?');
    const second: CompletionRequest = {
      ...first,
      conversation: {
        turns: [{ user: 'What is this?', imageCount: 1 }],
      },
    };
    const [a, b] = await Promise.all([engine.complete(first), engine.complete(second)]);
    expect(b.tokens).toEqual(a.tokens);
    // The same prompt again: all of it was already in the session's sequence.
    expect(b.stats.reusedTokens).toBeGreaterThan(0);
    expect(b.stats.imageTokens).toBe(0);
  });
});
