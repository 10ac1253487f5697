import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { ChatSession } from '../../src-main/engine/chat-session.js';
import { VisionEngine, type ManyOutcome } from '../../src-main/engine/vision-engine.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';

let dir: string;
let pair: LlavaPairResult;
let engine: VisionEngine;
let images: TestImage[];

const greedy = { temperature: 0, maxTokens: 10 };
const conversation = (text: string) => ({ turns: [{ user: text, imageCount: 1 }] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-engine-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 7 });
  const size = { width: 56, height: 56 };
  images = [
    await makeTestImage(dir, 'gradient', size, 'gradient'),
    await makeTestImage(dir, 'checker', size, 'checker'),
    await makeTestImage(dir, 'stripes', size, 'stripes'),
  ];
  engine = await VisionEngine.load({
    modelPath: pair.modelPath,
    mmprojPath: pair.mmprojPath,
    threads: 1,
    contextSize: 512,
    parallel: 3,
  });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function texts(outcomes: ManyOutcome[]): string[] {
  return outcomes.map((o) => (o.ok ? o.value.text : `error ${o.error.code}`));
}

describe('VisionEngine.completeMany (parallel sequences, one decode per step)', () => {
  it('gives each image the answer a sequential run gives it, and streams by index', async () => {
    const sequential: string[] = [];
    for (const image of images) {
      const r = await new ChatSession(engine, { sampling: greedy }).ask({
        text: 'Describe it.',
        images: [image],
      });
      sequential.push(r.text);
    }
    const streamed = images.map(() => '');
    const outcomes = await engine.completeMany(
      images.map((image, i) => ({
        sessionId: `many-${i}`,
        conversation: conversation('Describe it.'),
        images: [image],
        sampling: greedy,
      })),
      { onToken: (index, e) => (streamed[index] += e.text) },
    );
    expect(texts(outcomes)).toEqual(sequential);
    expect(streamed).toEqual(sequential);
    const stats = outcomes.map((o) => (o.ok ? o.value.stats : undefined));
    // The shared head (system prompt + "USER: ") is evaluated once and copied.
    expect(stats[1]?.reusedTokens).toBeGreaterThan(10);
    expect(stats[2]?.reusedTokens).toBe(stats[1]?.reusedTokens);
  });

  it('runs again on the same sequences with the same answers (prompt kept, answer dropped)', async () => {
    const requests = images.map((image, i) => ({
      sessionId: `many-${i}`,
      conversation: conversation('Describe it.'),
      images: [image],
      sampling: greedy,
    }));
    const first = texts(await engine.completeMany(requests));
    const second = texts(await engine.completeMany([...requests].reverse()));
    expect(second).toEqual([...first].reverse());
  });

  it('fails one bad request without failing the others', async () => {
    const outcomes = await engine.completeMany([
      {
        sessionId: 'bad-0',
        conversation: conversation('Describe it.'),
        images: [],
        sampling: greedy,
      },
      {
        sessionId: 'bad-1',
        conversation: conversation('Describe it.'),
        images: [images[0]!],
        sampling: greedy,
      },
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(outcomes[1]?.ok).toBe(true);
  });

  it('stops every sequence when the signal aborts', async () => {
    const controller = new AbortController();
    let seen = 0;
    const outcomes = await engine.completeMany(
      images.map((image, i) => ({
        sessionId: `abort-${i}`,
        conversation: conversation('Describe it.'),
        images: [image],
        sampling: { temperature: 0, maxTokens: 200 },
      })),
      {
        signal: controller.signal,
        onToken: () => {
          seen += 1;
          if (seen === 4) controller.abort();
        },
      },
    );
    for (const o of outcomes) {
      expect(o.ok && o.value.stopReason).toBe('aborted');
      expect(o.ok && o.value.tokens.length).toBeLessThan(10);
    }
  });

  it('refuses more requests than sequences', async () => {
    const request = {
      conversation: conversation('x'),
      images: [images[0]!],
    };
    await expect(
      engine.completeMany([0, 1, 2, 3].map((i) => ({ ...request, sessionId: `too-many-${i}` }))),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
