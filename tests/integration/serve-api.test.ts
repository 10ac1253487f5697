import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ollama } from 'ollama';
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import {
  bmp,
  detailed,
  heic,
  sharpFormats,
  storeForOrientation,
  type RawRgb,
} from '../fixtures/image-corpus.js';
import { apiClients, dataUrl } from '../support/api-clients.js';
import { installPair } from '../support/data-folder.js';
import { enginePids, startServe, within, type ServeProcess } from '../support/serve-process.js';

// The local API as the tools that speak it meet it: a real `llava-desk serve` (from source) on
// the tiny generated LLaVA pair, driven by the official `openai` and `ollama` npm clients. The
// weights are random, so answers are checked for shape and usage, never for meaning.

let dir: string;
let pair: LlavaPairResult;
let serve: ServeProcess;
let openai: OpenAI;
let ollama: Ollama;
const MODEL = 'tiny';

/** A PNG of one flat colour with a stripe: each seed gives different pixels. */
async function png(seed: number, width = 64, height = 48): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i += 1) {
    const x = i % width;
    raw[i * 3] = (seed * 37 + x) % 256;
    raw[i * 3 + 1] = (seed * 91) % 256;
    raw[i * 3 + 2] = x < width / 2 ? (seed * 53) % 256 : 255 - ((seed * 53) % 256);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** What llava-desk adds to OpenAI's answer (not in the client's types). */
interface Extras {
  llava_desk: {
    images: number;
    image_tokens: number;
    image_plans: Array<{ width: number; height: number; detail: string; encoder_images: number }>;
    cached_images: number;
    time_to_first_token_ms: number;
    image_encode_ms: number;
  };
}

/** A raw HTTP request with the headers a test chooses (Host, Origin) that fetch would not allow. */
function rawRequest(
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
  to: { host: string; port: number } = { host: '127.0.0.1', port: serve.port },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: to.host, port: to.port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-serve-api-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 5 });
  const dataDir = join(dir, 'data');
  await installPair(dataDir, pair, { threads: 1, contextSize: 4096, maxTokens: 8 });
  serve = await startServe(dataDir);
  ({ openai, ollama } = apiClients(serve));
});

afterAll(async () => {
  if (serve) expect(serve.problems()).toEqual([]);
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the OpenAI dialect with the official client', () => {
  it('lists the model the app uses', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('answers a plain completion with usage', async () => {
    const answer = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say something.' }],
      max_tokens: 5,
      temperature: 0,
    });
    expect(answer.object).toBe('chat.completion');
    expect(answer.choices).toHaveLength(1);
    expect(typeof answer.choices[0]?.message.content).toBe('string');
    expect(['stop', 'length']).toContain(answer.choices[0]?.finish_reason);
    const usage = answer.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeLessThanOrEqual(5);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
  });

  it('streams SSE chunks ending in usage when asked', async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count.' }],
      max_completion_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(['stop', 'length']).toContain(finish);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeLessThanOrEqual(6);
    // The same question answered whole with the same seed gives the same text.
    const whole = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count.' }],
      max_completion_tokens: 6,
      temperature: 0,
    });
    expect(text).toBe(whole.choices[0]?.message.content);
  });

  it('counts image tokens in the prompt and sees images of earlier turns', async () => {
    const question = 'What is in the picture?';
    const plain = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: question }],
      max_tokens: 2,
    });
    const one = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: dataUrl(await png(1)) } },
            { type: 'text', text: question },
          ],
        },
      ],
      max_tokens: 2,
    });
    const plainPrompt = plain.usage?.prompt_tokens ?? 0;
    const onePrompt = one.usage?.prompt_tokens ?? 0;
    const imageTokens = (one as unknown as Extras).llava_desk.image_tokens;
    console.log(
      `prompt tokens: ${plainPrompt} without the image, ${onePrompt} with (image ${imageTokens})`,
    );
    expect(imageTokens).toBeGreaterThan(0);
    // The image's tokens, give or take the few its place in the template costs.
    expect(onePrompt).toBeGreaterThanOrEqual(plainPrompt + imageTokens);
    expect(onePrompt).toBeLessThanOrEqual(plainPrompt + imageTokens + 8);
    const perImage = onePrompt - plainPrompt;

    // Two images in an earlier turn, one in the last, `detail: low` as standard: all counted.
    const multi = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: dataUrl(await png(2)), detail: 'low' } },
            { type: 'image_url', image_url: { url: dataUrl(await png(3)) } },
            { type: 'text', text: 'Compare these.' },
          ],
        },
        { role: 'assistant', content: 'They differ.' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: dataUrl(await png(4)), detail: 'auto' } },
            { type: 'text', text: question },
          ],
        },
      ],
      max_tokens: 2,
    });
    expect(multi.usage?.prompt_tokens).toBeGreaterThan(plainPrompt + 3 * perImage);
    expect((multi as unknown as Extras).llava_desk.images).toBe(3);
  });

  it('takes every image format the app reads, and applies EXIF orientation', async () => {
    const picture = detailed(64, 40);
    const formats: Record<string, Buffer> = {
      ...(await sharpFormats(picture)),
      bmp: bmp(picture),
      heic: heic(),
    };
    for (const [name, bytes] of Object.entries(formats)) {
      const answer = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'image_url',
                image_url: { url: `data:image/x;base64,${bytes.toString('base64')}` },
              },
              { type: 'text', text: 'What?' },
            ],
          },
        ],
        max_tokens: 1,
      });
      expect((answer as unknown as Extras).llava_desk.images, name).toBe(1);
    }

    // A photo stored turned with EXIF orientation 6 is the upright picture: the same pixels
    // reach the engine (its embedding cache recognises them); stored turned without EXIF it is not.
    const lossless = (image: RawRgb, orientation?: number): Promise<Buffer> => {
      const encoded = sharp(image.data, {
        raw: { width: image.width, height: image.height, channels: 3 },
      }).webp({ lossless: true });
      return (orientation ? encoded.withMetadata({ orientation }) : encoded).toBuffer();
    };
    const upright = detailed(72, 48);
    const stored = storeForOrientation(upright, 6);
    const ask = async (bytes: Buffer, system: string) =>
      (
        (await openai.chat.completions.create({
          model: MODEL,
          messages: [
            // Another system prompt each time: the image is never in the KV cache's prefix.
            { role: 'system', content: system },
            {
              role: 'user',
              content: [
                {
                  type: 'image_url',
                  image_url: { url: `data:image/webp;base64,${bytes.toString('base64')}` },
                },
                { type: 'text', text: 'What?' },
              ],
            },
          ],
          max_tokens: 1,
        })) as unknown as Extras
      ).llava_desk;
    expect((await ask(await lossless(upright), 'orientation one')).cached_images).toBe(0);
    expect((await ask(await lossless(stored, 6), 'orientation two')).cached_images).toBe(1);
    expect((await ask(await lossless(stored), 'orientation three')).cached_images).toBe(0);
  });

  it('plans a large image at high detail into tiles and says how', async () => {
    const large = await png(40, 1600, 900);
    const plans: Array<{
      detail: string;
      tokens: number;
      plan: Extras['llava_desk']['image_plans'][0];
    }> = [];
    for (const detail of ['low', 'high'] as const) {
      const answer = (await openai.chat.completions.create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: dataUrl(large), detail } },
              { type: 'text', text: 'Read the small print.' },
            ],
          },
        ],
        max_tokens: 1,
      })) as unknown as Extras & { usage: { prompt_tokens: number } };
      const plan = answer.llava_desk.image_plans[0];
      expect(plan).toBeDefined();
      plans.push({
        detail,
        tokens: answer.usage.prompt_tokens,
        plan: plan as NonNullable<typeof plan>,
      });
    }
    const [low, high] = plans;
    expect(low?.plan).toEqual({ width: 1600, height: 900, detail: 'standard', encoder_images: 1 });
    expect(high?.plan).toMatchObject({ width: 1600, height: 900, detail: 'high' });
    expect(high?.plan.encoder_images).toBeGreaterThan(1);
    expect(high?.tokens).toBeGreaterThan(low?.tokens ?? Infinity);
  });

  it('refuses a broken image with 400 in OpenAI’s shape', async () => {
    const attempt = openai.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image_url',
              image_url: {
                url: `data:image/png;base64,${Buffer.from('not a png').toString('base64')}`,
              },
            },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    await expect(attempt).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const error = (await attempt.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_image');
    expect(error.type).toBe('invalid_request_error');
  });

  it('refuses image URLs it would have to fetch or read, with 400', async () => {
    for (const url of ['http://127.0.0.1:1/x.png', 'file:///etc/passwd', '/etc/passwd']) {
      const attempt = openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
      });
      await expect(attempt, url).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    }
  });

  it('answers an unknown model with 404 and a malformed body with 400', async () => {
    const unknown = openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    await expect(unknown).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const error = (await unknown.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.code).toBe('model_not_found');

    const raw = await rawRequest(
      '/v1/chat/completions',
      { Host: `127.0.0.1:${serve.port}`, 'Content-Type': 'application/json' },
      'POST',
      '{"model": "tiny", "messages": [{"role": "tool"',
    );
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body)).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('cuts the answer at a stop string', async () => {
    const whole = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Go on.' }],
      max_tokens: 8,
      temperature: 0,
    });
    const text = whole.choices[0]?.message.content ?? '';
    const stop = text.trim().slice(2, 4);
    if (stop.trim() === '') return;
    const cut = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Go on.' }],
      max_tokens: 8,
      temperature: 0,
      stop: [stop],
    });
    expect(cut.choices[0]?.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]?.finish_reason).toBe('stop');
  });
});

describe('the Ollama dialect with the official client', () => {
  it('lists the model and its version', async () => {
    const tags = await ollama.list();
    expect(tags.models.map((m) => m.name)).toEqual([MODEL]);
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+/);
    const shown = await ollama.show({ model: MODEL });
    expect(shown.capabilities).toContain('vision');
    // The model answered the tests above: it is in memory.
    expect((await ollama.ps()).models.map((m) => m.name)).toEqual([MODEL]);
  });

  it('chats about images, whole and streamed', async () => {
    const image = await png(9);
    const whole = await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Describe.', images: [image.toString('base64')] }],
      options: { temperature: 0, num_predict: 5, seed: 3 },
      keep_alive: '5m',
      stream: false,
    });
    expect(whole.done).toBe(true);
    expect(typeof whole.message.content).toBe('string');
    expect(whole.eval_count).toBeGreaterThan(0);
    expect(whole.eval_count).toBeLessThanOrEqual(5);
    const textOnly = await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Describe.' }],
      options: { num_predict: 1 },
    });
    expect(whole.prompt_eval_count).toBeGreaterThan(textOnly.prompt_eval_count);

    const parts: string[] = [];
    let last: { done: boolean; eval_count: number } | undefined;
    for await (const part of await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Describe.', images: [new Uint8Array(image)] }],
      options: { temperature: 0, num_predict: 5, seed: 3 },
      stream: true,
    })) {
      parts.push(part.message.content);
      last = part;
    }
    expect(last?.done).toBe(true);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('')).toBe(whole.message.content);
  });

  it('generates with an image and refuses an unknown model with 404', async () => {
    const answer = await ollama.generate({
      model: `${MODEL}:latest`,
      prompt: 'What is this?',
      images: [(await png(10)).toString('base64')],
      options: { num_predict: 3 },
      stream: false,
    });
    expect(answer.done).toBe(true);
    expect(answer.prompt_eval_count).toBeGreaterThan(20);
    await expect(ollama.chat({ model: 'llava:7b', messages: [] })).rejects.toMatchObject({
      status_code: 404,
    });
  });
});

describe('the API’s security', () => {
  it('refuses a browser page’s Origin with 403 and no CORS headers, a foreign Host with 421', async () => {
    const host = `127.0.0.1:${serve.port}`;
    const page = await rawRequest('/v1/models', { Host: host, Origin: 'https://evil.example' });
    expect(page.status).toBe(403);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(page.body)).toMatchObject({ error: { code: 'origin_not_allowed' } });
    const preflight = await rawRequest(
      '/api/chat',
      { Host: host, Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
      'OPTIONS',
    );
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();

    const rebound = await rawRequest('/v1/models', { Host: `attacker.example:${serve.port}` });
    expect(rebound.status).toBe(421);
    const plain = await rawRequest('/v1/models', { Host: host });
    expect(plain.status).toBe(200);
  });

  it('answers hostile bodies on every route with a 4xx in the dialect’s shape', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const bodies = [
      '',
      'null',
      '[]',
      '"x"',
      '{',
      deep,
      '{"model":"tiny"}',
      '{"model":"tiny","messages":null}',
      '{"model":"tiny","messages":[{"role":"user","content":{"a":1}}]}',
      '{"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url"}]}]}',
      '{"model":"tiny","messages":[{"role":"user","content":"x","images":[42]}]}',
      '{"model":"tiny","messages":[{"role":"assistant","content":"only me"}]}',
      `{"model":"tiny","messages":[{"role":"user","content":"x"}],"max_tokens":1e308}`,
      '{"model":"tiny","prompt":"x","images":["%%%"]}',
      '{"__proto__":{"model":"tiny"},"messages":[]}',
      `{"model":"tiny","messages":[{"role":"user","content":"x","images":[${'"AAAA",'.repeat(20)}"AAAA"]}]}`,
    ];
    const routes = ['/v1/chat/completions', '/api/chat', '/api/generate', '/api/show'];
    for (const route of routes) {
      for (const body of bodies) {
        const what = `${route} ${body.slice(0, 60)}`;
        const answer = await rawRequest(
          route,
          { Host: `127.0.0.1:${serve.port}`, 'Content-Type': 'application/json' },
          'POST',
          body,
        );
        // Each is refused, or (a few are valid somewhere: /api/show needs only a model) answered.
        expect(answer.status, what).toBeLessThan(500);
        if (answer.status >= 400) {
          const parsed = JSON.parse(answer.body) as { error?: unknown };
          if (route.startsWith('/v1')) {
            expect(parsed.error, what).toMatchObject({ message: expect.any(String) });
          } else {
            expect(typeof parsed.error, what).toBe('string');
          }
        }
      }
    }
    expect((await openai.models.list()).data).toHaveLength(1);
  });

  it('refuses a body over the limit with 413 and keeps serving', async () => {
    const raw = await rawRequest(
      '/v1/chat/completions',
      {
        Host: `127.0.0.1:${serve.port}`,
        'Content-Type': 'application/json',
        'Content-Length': String(65 * 1024 * 1024),
      },
      'POST',
    );
    expect(raw.status).toBe(413);
    expect((await openai.models.list()).data).toHaveLength(1);
  });
});

describe('the API under load', () => {
  it('answers 8 simultaneous requests with 8 different images, each with its own usage', async () => {
    const images = await Promise.all(Array.from({ length: 8 }, (_, i) => png(20 + i, 40 + i * 4)));
    const question = (i: number): string => `Image number ${i}: what is it?`;
    const answers = await Promise.all(
      images.map((image, i) =>
        openai.chat.completions.create({
          model: MODEL,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: { url: dataUrl(image) } },
                { type: 'text', text: question(i) },
              ],
            },
          ],
          max_tokens: 4,
          temperature: 0,
        }),
      ),
    );
    // Each answer agrees with the same request asked alone (none mixed up with another image).
    for (const answer of answers) {
      expect(['stop', 'length']).toContain(answer.choices[0]?.finish_reason);
      const extras = (answer as unknown as Extras).llava_desk;
      expect(extras.images).toBe(1);
      expect(answer.usage?.prompt_tokens).toBeGreaterThan(extras.image_tokens);
      expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
    }
    // The answers differ from one image to the next, so a mix-up could not go unseen.
    const distinct = new Set(answers.map((a) => a.choices[0]?.message.content));
    expect(distinct.size).toBeGreaterThan(4);
    for (const i of images.keys()) {
      const alone = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: dataUrl(images[i] as Buffer) } },
              { type: 'text', text: question(i) },
            ],
          },
        ],
        max_tokens: 4,
        temperature: 0,
      });
      expect(alone.choices[0]?.message.content).toBe(answers[i]?.choices[0]?.message.content);
      expect(alone.usage?.prompt_tokens).toBe(answers[i]?.usage?.prompt_tokens);
    }
  });

  it('streams two answers at the same time, as parallel sequences', async () => {
    // Greedy answers of these prompts run past 200 tokens on this pair (see the test below).
    const prompts = ['Tell me a very long story.', 'Write a long essay about the sea.'];
    const arrivals: number[] = [];
    const finishes: (string | null | undefined)[] = [];
    await Promise.all(
      prompts.map(async (content, i) => {
        const stream = await openai.chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content }],
          max_tokens: 200,
          temperature: 0,
          stream: true,
        });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (choice?.delta.content) arrivals.push(i);
          if (choice?.finish_reason) finishes[i] = choice.finish_reason;
        }
      }),
    );
    expect(finishes).toEqual(['length', 'length']);
    // One after another, every piece of one answer would arrive before the other's first.
    const firstOfSecond = Math.min(arrivals.indexOf(0), arrivals.indexOf(1));
    const other = arrivals[firstOfSecond] === 0 ? 1 : 0;
    const firstOfOther = arrivals.indexOf(other);
    expect(arrivals.lastIndexOf(arrivals[firstOfSecond]!)).toBeGreaterThan(firstOfOther);
  });

  it('reports a repeated image as coming from the embedding cache (time to first token logged)', async () => {
    const image = dataUrl(await png(77, 72, 60));
    const ask = (system: string) =>
      openai.chat.completions.create({
        model: MODEL,
        messages: [
          // A different system prompt each time: the image is not in the KV cache's prefix.
          { role: 'system', content: system },
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: image } },
              { type: 'text', text: 'What?' },
            ],
          },
        ],
        max_tokens: 2,
      });
    const first = await ask('You are a first assistant.');
    const second = await ask('You are a second, different assistant.');
    const a = (first as unknown as Extras).llava_desk;
    const b = (second as unknown as Extras).llava_desk;
    console.log(
      `time to first token: new image ${a.time_to_first_token_ms} ms (encode ${a.image_encode_ms} ms), ` +
        `repeated image ${b.time_to_first_token_ms} ms (encode ${b.image_encode_ms} ms)`,
    );
    expect(a.cached_images).toBe(0);
    expect(b.cached_images).toBe(1);
  });
});

describe('the API when a client goes away', () => {
  it('stops generating for it: the next request does not wait for the abandoned answer', async () => {
    // A prompt whose greedy answer is long (random weights may end one early).
    let story: { role: 'user'; content: string } | undefined;
    let fullMs = 0;
    for (const content of ['Tell me a very long story.', 'Write a long essay about the sea.']) {
      const full = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content }],
        max_tokens: 3000,
        temperature: 0,
      });
      if ((full.usage?.completion_tokens ?? 0) < 1000) continue;
      story = { role: 'user', content };
      fullMs = (full as unknown as { llava_desk: { total_ms: number } }).llava_desk.total_ms;
      break;
    }
    if (!story) throw new Error('no prompt has a long answer on this pair');

    const leaving = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: MODEL, messages: [story], max_tokens: 3000, temperature: 0, stream: true },
      { signal: leaving.signal },
    );
    for await (const _chunk of stream) {
      leaving.abort();
    }
    const started = Date.now();
    const next = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 1,
    });
    const waitedMs = Date.now() - started;
    console.log(
      `abandoned answer: full one took ${Math.round(fullMs)} ms, next request ${waitedMs} ms`,
    );
    expect(next.usage?.completion_tokens).toBe(1);
    expect(waitedMs).toBeLessThan(fullMs / 2);
  });
});

describe('the API when the engine dies', () => {
  it('ends a stream with an error, answers a request under way 503, then answers again', async () => {
    // Random weights may end an answer early: a prompt whose answer ended before the engine
    // could be killed under it is replaced by the next.
    const prompts = [
      'Tell me a very long story.',
      'Write a long essay about the sea.',
      'Count to one thousand.',
      'Describe every room of a large house.',
    ];
    let outcome: { streamError: unknown; refused: unknown } | undefined;
    for (const prompt of prompts) {
      const long = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: 3000,
        temperature: 0,
        stream: true,
      });
      let finished = false;
      let streamError: unknown;
      const consumed = (async () => {
        try {
          for await (const _chunk of long);
        } catch (error) {
          streamError = error;
        } finally {
          finished = true;
        }
      })();
      // A second long answer under way beside it (another sequence), not streamed.
      const waiting = openai.chat.completions
        .create({
          model: MODEL,
          messages: [{ role: 'user', content: prompts[(prompts.indexOf(prompt) + 1) % 4]! }],
          max_tokens: 3000,
          temperature: 0,
        })
        .catch((e: unknown) => e);
      // Time for it to reach the engine (a loaded machine may take a while).
      await new Promise((r) => setTimeout(r, 1000));
      if (finished) {
        await waiting;
        continue;
      }
      const engines = enginePids(serve.pid);
      expect(engines).toHaveLength(1);
      process.kill(engines[0] as number, 'SIGKILL');
      await consumed;
      const refused = await waiting;
      // Inconclusive when the long answer ended just before the kill, or the other request had
      // not reached the engine yet (it is then answered by the restarted one): try again.
      if (!(streamError instanceof OpenAI.APIError) || !(refused instanceof OpenAI.APIError)) {
        continue;
      }
      outcome = { streamError, refused };
      break;
    }
    expect(outcome, 'no attempt cut a long answer with a request waiting').toBeDefined();
    expect(outcome?.streamError).toBeInstanceOf(OpenAI.APIError);
    const refused = outcome?.refused as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('engine_crashed');

    const again = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi again' }],
      max_tokens: 2,
    });
    expect(again.usage?.completion_tokens).toBeGreaterThan(0);
  });
});

describe('llava-desk serve --no-api', () => {
  it('serves the app without the API', async () => {
    const dataDir = join(dir, 'no-api');
    await installPair(dataDir, pair, { threads: 1 });
    const plain = await startServe(dataDir, ['--no-api']);
    try {
      expect(plain.stdout()).not.toMatch(/OpenAI-compatible API/);
      const to = { host: '127.0.0.1', port: plain.port };
      const host = { Host: `127.0.0.1:${plain.port}` };
      expect((await rawRequest('/v1/models', host, 'GET', undefined, to)).status).toBe(404);
      expect((await rawRequest('/api/tags', host, 'GET', undefined, to)).status).toBe(404);
      expect((await rawRequest('/', host, 'GET', undefined, to)).status).toBe(200);
      expect(plain.problems()).toEqual([]);
    } finally {
      await plain.stop();
    }
  });
});

describe('llava-desk serve --allow-image-fetch', () => {
  let fetching: ServeProcess | undefined;
  let images: Server | undefined;
  afterAll(async () => {
    if (fetching) expect(fetching.problems()).toEqual([]);
    await fetching?.stop();
    images?.closeAllConnections();
    await new Promise((resolve) => (images ? images.close(resolve) : resolve(undefined)));
  });

  it('downloads http image URLs and refuses what it cannot download with 400', async () => {
    const picture = await png(31);
    images = createServer((req, res) => {
      if (req.url === '/photo.png')
        res.writeHead(200, { 'Content-Type': 'image/png' }).end(picture);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images?.listen(0, '127.0.0.1', resolve));
    const imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    const dataDir = join(dir, 'fetching');
    await installPair(dataDir, pair, { threads: 1, contextSize: 2048, maxTokens: 4 });
    fetching = await startServe(dataDir, ['--allow-image-fetch']);
    const client = new OpenAI({
      baseURL: `http://127.0.0.1:${fetching.port}/v1`,
      apiKey: 'x',
      maxRetries: 0,
    });
    const ask = (url: string) =>
      client.chat.completions.create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url } },
              { type: 'text', text: 'What?' },
            ],
          },
        ],
      });
    const fetched = await ask(`${imageBase}/photo.png`);
    const inline = await ask(dataUrl(picture));
    // The same picture, downloaded or inline: the same prompt, and the second from the cache.
    expect(fetched.usage?.prompt_tokens).toBe(inline.usage?.prompt_tokens);
    expect((fetched as unknown as Extras).llava_desk.images).toBe(1);
    const missing = await ask(`${imageBase}/missing.png`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.APIError>).code).toBe('image_fetch_failed');
    // Still never a file.
    await expect(ask('file:///etc/hostname')).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('llava-desk serve --allow-remote with the API', () => {
  let remote: ServeProcess | undefined;
  afterAll(async () => {
    if (remote) expect(remote.problems()).toEqual([]);
    await remote?.stop();
  });

  it('prints a key, needs it from other machines, and allows only the listed web origin', async () => {
    const dataDir = join(dir, 'remote');
    await installPair(dataDir, pair, { threads: 1, contextSize: 2048, maxTokens: 4 });
    const allowed = 'http://localhost:5173';
    remote = await startServe(dataDir, [
      '--host',
      '0.0.0.0',
      '--allow-remote',
      '--api-cors-origin',
      allowed,
    ]);
    // The key is printed just after the address that startServe waits for.
    const printed = remote;
    expect(await within(10_000, () => /API key .*: \S+\n/.test(printed.stdout()))).toBe(true);
    const key = /API key .*: (\S+)\n/.exec(remote.stdout())?.[1];
    expect(key).toMatch(/^lld-/);
    const port = remote.port;

    // On this machine (loopback) no key is needed, as with Ollama and LM Studio.
    const local = await rawRequest('/api/tags', { Host: `127.0.0.1:${port}` }, 'GET', undefined, {
      host: '127.0.0.1',
      port,
    });
    expect(local.status).toBe(200);

    const cors = await rawRequest(
      '/v1/models',
      { Host: `127.0.0.1:${port}`, Origin: allowed },
      'GET',
      undefined,
      { host: '127.0.0.1', port },
    );
    expect(cors.status).toBe(200);
    expect(cors.headers['access-control-allow-origin']).toBe(allowed);
    const other = await rawRequest(
      '/v1/models',
      { Host: `127.0.0.1:${port}`, Origin: 'http://localhost:5174' },
      'GET',
      undefined,
      { host: '127.0.0.1', port },
    );
    expect(other.status).toBe(403);

    // From an address of this machine's network interface: the key is required.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry?.family === 'IPv4' && !entry.internal);
    if (!lan) return;
    const to = { host: lan.address, port };
    const host = `${lan.address}:${port}`;
    const without = await rawRequest('/v1/models', { Host: host }, 'GET', undefined, to);
    expect(without.status).toBe(401);
    expect(JSON.parse(without.body)).toMatchObject({ error: { code: 'invalid_api_key' } });
    const wrong = await rawRequest(
      '/v1/models',
      { Host: host, Authorization: 'Bearer lld-wrong' },
      'GET',
      undefined,
      to,
    );
    expect(wrong.status).toBe(401);
    const client = new OpenAI({
      baseURL: `http://${host}/v1`,
      apiKey: key as string,
      maxRetries: 0,
    });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual([MODEL]);
    const answer = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
  });
});
