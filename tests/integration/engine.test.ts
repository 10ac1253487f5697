import { mkdtemp, rm, truncate, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { ChatSession } from '../../src-main/engine/chat-session.js';
import { defaultEngineLauncher, EngineClient } from '../../src-main/engine/engine-client.js';
import type { WorkerLauncher } from '../../src-main/engine/process/worker-channel.js';
import { rewriteGgufHeader } from '../../src-main/models/gguf/rewrite-header.js';
import { VisionEngine } from '../../src-main/engine/vision-engine.js';
import { cliAnswer, runMtmdCli } from '../support/mtmd-cli.js';
import { makeTestImage, type TestImage } from '../support/tiny-images.js';

const THREADS = 1;
let dir: string;
let pair: LlavaPairResult;
let engine: VisionEngine;
let gradient: TestImage;
let checker: TestImage;
let stripes: TestImage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-engine-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 7 });
  const size = { width: 56, height: 56 };
  gradient = await makeTestImage(dir, 'gradient', size, 'gradient');
  checker = await makeTestImage(dir, 'checker', size, 'checker');
  stripes = await makeTestImage(dir, 'stripes', size, 'stripes');
  engine = await VisionEngine.load({
    modelPath: pair.modelPath,
    mmprojPath: pair.mmprojPath,
    threads: THREADS,
    contextSize: 1024,
    parallel: 2,
  });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const greedy = { temperature: 0, maxTokens: 12 };

/** Tokens a session's sequence holds after an answer (reused + evaluated + generated). */
function inCache(r: {
  stats: { reusedTokens: number; promptTokens: number };
  tokens: number[];
}): number {
  return r.stats.reusedTokens + r.stats.promptTokens + r.tokens.length;
}

describe('the vision engine on the tiny pair', () => {
  it('answers greedily and deterministically, and the answer depends on the image', async () => {
    const first = await new ChatSession(engine, { sampling: greedy }).ask({
      text: 'What is this?',
      images: [gradient],
    });
    const again = await new ChatSession(engine, { sampling: greedy }).ask({
      text: 'What is this?',
      images: [gradient],
    });
    const other = await new ChatSession(engine, { sampling: greedy }).ask({
      text: 'What is this?',
      images: [checker],
    });
    expect(first.tokens).toHaveLength(12);
    expect(again.tokens).toEqual(first.tokens);
    expect(other.tokens).not.toEqual(first.tokens);
    expect(first.stats.imageTokens).toBe(16);
  });

  it('streams every token through onToken, matching the final text', async () => {
    const pieces: string[] = [];
    const result = await new ChatSession(engine, { sampling: greedy }).ask(
      { text: 'Describe it.', images: [stripes] },
      { onToken: (e) => pieces.push(e.text) },
    );
    expect(pieces).toHaveLength(result.tokens.length);
    // The engine drops the answer's leading space once, for the stream and the text alike.
    expect(pieces.join('')).toBe(result.text);
  });

  it('evaluates only the new tokens of a follow-up and never re-encodes the image', async () => {
    const session = new ChatSession(engine, { sampling: greedy });
    const first = await session.ask({ text: 'What is this?', images: [stripes] });
    const followUp = await session.ask({ text: 'And the colour?' });
    expect(followUp.stats.imageTokens).toBe(0);
    expect(followUp.stats.imageEncodeMs).toBe(0);
    expect(followUp.stats.reusedTokens).toBe(inCache(first));
    expect(followUp.stats.promptTokens).toBeLessThan(20);
  });

  it('starts a new session from the cached prefix of another (same image, other question)', async () => {
    const first = await new ChatSession(engine, { sampling: greedy }).ask({
      text: 'What is in the picture?',
      images: [gradient],
    });
    const other = await new ChatSession(engine, { sampling: greedy }).ask({
      text: 'Any text in it?',
      images: [gradient],
    });
    const same = await new ChatSession(engine, { sampling: greedy }).ask({
      text: 'What is in the picture?',
      images: [gradient],
    });
    expect(other.stats.imageTokens).toBe(0);
    expect(other.stats.reusedTokens).toBeGreaterThanOrEqual(16);
    expect(other.stats.promptTokens).toBeLessThan(first.stats.promptTokens - 16);
    // The very same question re-asked: only the question is evaluated again, same answer.
    expect(same.stats.imageTokens).toBe(0);
    expect(same.tokens).toEqual(first.tokens);
  });

  it('takes a known image from the embedding cache when no cached prefix covers it', async () => {
    // Different system prompts: the image sits after text that differs, so no KV prefix is
    // shared, but its embedding is already known.
    await new ChatSession(engine, { sampling: greedy, system: 'Be brief.' }).ask({
      text: 'Hi',
      images: [checker],
    });
    const fresh = await new ChatSession(engine, { sampling: greedy, system: 'Be thorough.' }).ask({
      text: 'Hello',
      images: [checker],
    });
    expect(fresh.stats.cachedImages).toBe(1);
    expect(fresh.stats.imageEncodeMs).toBe(0);
    expect(fresh.stats.imageTokens).toBe(16);
  });

  it('regenerates the last answer and edits a past question reusing the turns before it', async () => {
    const session = new ChatSession(engine, { sampling: greedy });
    const a1 = await session.ask({ text: 'First?', images: [gradient] });
    const a2 = await session.ask({ text: 'Second?' });
    const regenerated = await session.regenerate();
    expect(regenerated.tokens).toEqual(a2.tokens);
    expect(regenerated.stats.reusedTokens).toBe(inCache(a1));

    const edited = await session.edit(1, { text: 'Something else entirely?' });
    expect(edited.stats.reusedTokens).toBe(inCache(a1));
    expect(edited.stats.imageTokens).toBe(0);
    expect(session.turns.map((t) => t.text)).toEqual(['First?', 'Something else entirely?']);
  });

  it('sees every image of a message, in order', async () => {
    // A system prompt no other test uses: no cached prefix holds an image of these prompts, so
    // each image a prompt starts with is decoded here (16 tokens each on the tiny pair).
    const ask = (images: TestImage[]) =>
      new ChatSession(engine, { sampling: greedy, system: 'Compare the pictures.' }).ask({
        text: 'Compare.',
        images,
      });
    const both = await ask([gradient, checker]);
    const swapped = await ask([checker, gradient]);
    const onlyFirst = await ask([gradient]);
    expect(both.stats.imageTokens).toBe(32);
    expect(swapped.stats.imageTokens).toBe(32);
    expect(both.stats.promptTokens).toBeGreaterThan(onlyFirst.stats.promptTokens + 15);
    expect(both.tokens).not.toEqual(swapped.tokens);
    expect(both.tokens).not.toEqual(onlyFirst.tokens);
  });

  it('stops before the next token when aborted, keeping the partial answer for the next turn', async () => {
    const controller = new AbortController();
    const session = new ChatSession(engine, { sampling: { temperature: 0, maxTokens: 200 } });
    let seen = 0;
    const stopped = await session.ask(
      { text: 'Tell me everything.', images: [stripes] },
      {
        signal: controller.signal,
        onToken: () => {
          seen += 1;
          if (seen === 3) controller.abort();
        },
      },
    );
    expect(stopped.stopReason).toBe('aborted');
    expect(stopped.tokens.length).toBe(3);
    const next = await session.ask({ text: 'Go on.' });
    // Each step decodes the token it streams: the cache holds the prompt and all three tokens.
    expect(next.stats.reusedTokens).toBe(inCache(stopped));
    expect(next.stats.imageTokens).toBe(0);
  });

  it('reports CONTEXT_FULL for a prompt that cannot fit, and the session stays usable', async () => {
    const session = new ChatSession(engine, { sampling: greedy });
    await expect(
      session.ask({ text: 'word '.repeat(2000), images: [gradient] }),
    ).rejects.toMatchObject({
      code: 'CONTEXT_FULL',
    });
    const ok = await session.ask({ text: 'Short one.', images: [gradient] });
    expect(ok.tokens).toHaveLength(12);
  });

  it('stops with stopReason contextFull when the answer reaches the end of the context', async () => {
    const session = new ChatSession(engine, { sampling: { temperature: 0, maxTokens: 5000 } });
    const long = await session.ask({ text: 'Write a lot.', images: [gradient] });
    expect(long.stopReason).toBe('contextFull');
    // Sequences share the (unified) context's cells; the last sampled token found no room.
    expect(inCache(long)).toBeLessThanOrEqual(engine.info.contextSize + 1);
    expect(inCache(long)).toBeGreaterThan(engine.info.contextSize / 2);
  });

  it('keeps two sessions in separate sequences of one context', async () => {
    const a = new ChatSession(engine, { sampling: greedy });
    const b = new ChatSession(engine, { sampling: greedy });
    const a1 = await a.ask({ text: 'A?', images: [gradient] });
    const b1 = await b.ask({ text: 'B?', images: [checker] });
    const a2 = await a.ask({ text: 'A again?' });
    const b2 = await b.ask({ text: 'B again?' });
    expect(a2.stats.reusedTokens).toBe(inCache(a1));
    expect(b2.stats.reusedTokens).toBe(inCache(b1));
  });

  it('uses the vicuna_v1 template when asked and renders the image marker into it', async () => {
    const vicuna = await VisionEngine.load({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      threads: THREADS,
      contextSize: 512,
      template: 'vicuna_v1',
    });
    try {
      expect(vicuna.info.template).toBe('vicuna_v1');
      const r = await new ChatSession(vicuna, { sampling: greedy }).ask({
        text: 'Q',
        images: [gradient],
      });
      // system prompt + "USER: " + 16 image tokens + "\nQ ASSISTANT:"
      expect(r.stats.promptTokens).toBeGreaterThan(40);
    } finally {
      await vicuna.dispose();
    }
  });
});

describe('parity with upstream llama-mtmd-cli', () => {
  // A fresh engine, as the CLI is: a prefix reused from other sessions' caches was evaluated in
  // other batch splits, which changes float rounding enough to flip near-ties of random weights.
  let fresh: VisionEngine;
  beforeAll(async () => {
    fresh = await VisionEngine.load({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      threads: THREADS,
      contextSize: 1024,
    });
  });
  afterAll(async () => {
    await fresh?.dispose();
  });

  it('gives the same greedy answer for the same model, image and prompt', async () => {
    for (const image of [gradient, checker]) {
      const cli = await runMtmdCli({
        modelPath: pair.modelPath,
        mmprojPath: pair.mmprojPath,
        images: [image.pngPath],
        prompt: 'Describe the image.',
        maxTokens: 16,
        threads: THREADS,
        contextSize: 1024,
      });
      expect(cli.code, cli.stderr.slice(-1500)).toBe(0);
      await fresh.closeSession('parity');
      const ours = await new ChatSession(fresh, {
        id: 'parity',
        sampling: { temperature: 0, maxTokens: 16 },
      }).ask({
        text: 'Describe the image.',
        images: [image],
      });
      expect(ours.text).toBe(cliAnswer(cli).trimStart());
    }
  });
});

describe('bad model input', () => {
  it('gives typed errors, never a crash', async () => {
    const notGguf = join(dir, 'not.gguf');
    await writeFile(notGguf, 'this is not a model');
    const truncated = join(dir, 'truncated.gguf');
    await copyFile(pair.modelPath, truncated);
    await truncate(truncated, 4096);
    const outdated = join(dir, 'outdated-mmproj.gguf');
    await rewriteGgufHeader(pair.mmprojPath, outdated, { remove: ['clip.projector_type'] });
    const cases: Array<[string, string, string]> = [
      [join(dir, 'missing.gguf'), pair.mmprojPath, 'MODEL_FILE_MISSING'],
      [notGguf, pair.mmprojPath, 'NOT_GGUF'],
      [truncated, pair.mmprojPath, 'GGUF_TRUNCATED'],
      [pair.modelPath, join(dir, 'missing-mmproj.gguf'), 'MODEL_FILE_MISSING'],
      [pair.modelPath, pair.modelPath, 'MMPROJ_MISSING'],
      [pair.mmprojPath, pair.mmprojPath, 'MODEL_SOURCE_INVALID'],
      [pair.modelPath, outdated, 'MMPROJ_OUTDATED'],
    ];
    for (const [modelPath, mmprojPath, code] of cases) {
      await expect(
        VisionEngine.load({ modelPath, mmprojPath, threads: THREADS, contextSize: 256 }),
        `${modelPath} + ${mmprojPath}`,
      ).rejects.toMatchObject({ code });
    }
  });

  it('refuses an mmproj whose projection width differs from the LLM', async () => {
    const wide = await makeLlavaPair({
      outDir: join(dir, 'wide'),
      seed: 8,
      llm: { nEmbd: 96, nHead: 4, nHeadKv: 2 },
      vision: { projectionDim: 96 },
    });
    await expect(
      VisionEngine.load({
        modelPath: pair.modelPath,
        mmprojPath: wide.mmprojPath,
        threads: THREADS,
        contextSize: 256,
      }),
    ).rejects.toMatchObject({ code: 'MMPROJ_WIDTH_MISMATCH' });
  });

  it('names the fix for a 2023 mmproj without clip.projector_type', async () => {
    const outdated = join(dir, 'outdated-2.gguf');
    await rewriteGgufHeader(pair.mmprojPath, outdated, { remove: ['clip.projector_type'] });
    await expect(
      VisionEngine.load({ modelPath: pair.modelPath, mmprojPath: outdated, threads: THREADS }),
    ).rejects.toThrow(/models import .*--mmproj/);
  });
});

describe('the engine process', () => {
  it('reports ENGINE_CRASHED within a second when killed mid-answer, then answers again', async () => {
    const client = new EngineClient();
    try {
      await client.load({
        modelPath: pair.modelPath,
        mmprojPath: pair.mmprojPath,
        threads: THREADS,
        contextSize: 2048,
      });
      const session = new ChatSession(client, { sampling: { temperature: 0, maxTokens: 1500 } });
      const pid = await client.pid();
      let killedAt = 0;
      const answer = session.ask(
        { text: 'Go.', images: [gradient] },
        {
          onToken: () => {
            if (killedAt === 0) {
              killedAt = Date.now();
              process.kill(pid, 'SIGKILL');
            }
          },
        },
      );
      await expect(answer).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
      expect(Date.now() - killedAt).toBeLessThan(1000);

      const again = await new ChatSession(client, { sampling: greedy }).ask({
        text: 'What is this?',
        images: [gradient],
      });
      expect(again.tokens).toHaveLength(12);
      expect(await client.pid()).not.toBe(pid);
    } finally {
      client.dispose();
    }
  });

  it("sends an image's pixels once per session, and again when the engine no longer holds them", async () => {
    // What each `complete` request carried to the engine process: per image, pixels or not.
    const carried: boolean[][] = [];
    const inner = defaultEngineLauncher();
    const recording: WorkerLauncher = () => {
      const channel = inner();
      return {
        send: (message) => {
          const m = message as {
            kind?: string;
            method?: string;
            params?: { images?: Array<{ rgb?: unknown }> };
          };
          if (m.kind === 'request' && m.method === 'complete') {
            carried.push((m.params?.images ?? []).map((image) => image.rgb !== undefined));
          }
          channel.send(message);
        },
        onMessage: (listener) => channel.onMessage(listener),
        onExit: (listener) => channel.onExit(listener),
        kill: () => channel.kill(),
      };
    };
    const client = new EngineClient(recording);
    try {
      // One sequence, so another session's question takes it (and the image's cache) away.
      await client.load({
        modelPath: pair.modelPath,
        mmprojPath: pair.mmprojPath,
        threads: THREADS,
        contextSize: 1024,
        parallel: 1,
      });
      const questions = ['What is this?', 'And the colours?', 'One more thing?'];
      const asked = new ChatSession(client, { sampling: greedy });
      const reference = new ChatSession(engine, { sampling: greedy });
      const answers: number[][] = [];
      const expected: number[][] = [];
      for (const [i, text] of questions.entries()) {
        const input = i === 0 ? { text, images: [gradient] } : { text };
        if (i === 2) {
          await new ChatSession(client, { sampling: greedy }).ask({
            text: 'What is this?',
            images: [checker],
          });
          // The reference engine (two sequences) loses the conversation's cache the same way.
          for (const image of [checker, stripes]) {
            await new ChatSession(engine, { sampling: greedy }).ask({
              text: 'What is this?',
              images: [image],
            });
          }
        }
        answers.push((await asked.ask(input)).tokens);
        expected.push((await reference.ask(input)).tokens);
      }
      expect(carried).toEqual([
        [true], // the first question: the image is new to the engine
        [false], // the follow-up: the session's cache holds it, only its id and size travel
        [true], // the other session's question
        [false], // the third question, refused with ENGINE_IMAGES_NEEDED: the cache lost it ...
        [true], // ... so it went again with the pixels
      ]);
      // The answers are those of an engine given every pixel every time (whose cache was lost
      // before the third question too: a re-evaluation need not match an incremental one bit for
      // bit on a random model).
      expect(answers).toEqual(expected);
    } finally {
      client.dispose();
    }
  });
});
