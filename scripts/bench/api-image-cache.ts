// npm run bench:api — time to first token through the local API (OpenAI
// dialect, the official client) for a new image and for the same image sent again in a request
// whose prompt differs before it (so the KV cache cannot hold it: only the engine's embedding
// cache, keyed by pixels, can spare the encoder). Pair: CLIP ViT-L/14-336 (random weights) with
// a tiny LLM, so the figure is the encoder's. Writes its table to docs/BENCHMARKS.md.
import { writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import sharp from 'sharp';
import { AppCore } from '../../src-main/app/app-core.js';
import { importModel } from '../../src-main/models/import-model.js';
import { apiBackendOf } from '../../src-main/server/app-api-backend.js';
import { startApiServer } from '../../src-main/server/local-api-server.js';
import { makeLlavaPair } from '../test-model/llava-pair.js';
import { machineLine, median, THREADS, writeReport } from './common.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 3);

interface Extras {
  llava_desk: { time_to_first_token_ms: number; image_encode_ms: number; cached_images: number };
}

async function photo(seed: number): Promise<string> {
  const size = 640;
  const raw = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i += 1) {
    raw[i * 3] = (i * seed) % 251;
    raw[i * 3 + 1] = ((i >> 7) * seed) % 241;
    raw[i * 3 + 2] = (seed * 37) % 256;
  }
  const jpeg = await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .jpeg()
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

const dir = await mkdtemp(join(tmpdir(), 'llava-desk-bench-api-'));
try {
  console.error('bench: writing a ViT-L/14-336 mmproj with a tiny LLM...');
  const pair = await makeLlavaPair({
    outDir: join(dir, 'pair'),
    seed: 1,
    vision: {
      imageSize: 336,
      patchSize: 14,
      nEmbd: 1024,
      nFf: 4096,
      nHead: 16,
      nLayer: 24,
      projectionDim: 768,
    },
  });
  const dataDir = join(dir, 'data');
  await importModel({
    path: pair.modelPath,
    mmprojPath: pair.mmprojPath,
    modelsDir: join(dataDir, 'models'),
    id: 'bench',
  });
  await writeFile(
    join(dataDir, 'settings.json'),
    JSON.stringify({ schemaVersion: 1, settings: { threads: THREADS, contextSize: 2048 } }),
  );
  const core = await AppCore.open({ dataDir, mode: 'web', hfBaseUrl: 'http://127.0.0.1:9' });
  const server = await startApiServer({ backend: apiBackendOf(core), port: 0 });
  const client = new OpenAI({ baseURL: `${server.origin}/v1`, apiKey: 'x', maxRetries: 0 });
  const ask = async (system: string, image: string): Promise<Extras['llava_desk']> => {
    const answer = await client.chat.completions.create({
      model: 'bench',
      messages: [
        { role: 'system', content: system },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: image } },
            { type: 'text', text: 'Describe the image.' },
          ],
        },
      ],
      max_tokens: 1,
      temperature: 0,
    });
    return (answer as unknown as Extras).llava_desk;
  };
  await ask('warm-up', await photo(99));
  const fresh: number[] = [];
  const repeated: number[] = [];
  const encodes: number[] = [];
  for (let rep = 0; rep < REPS; rep += 1) {
    const image = await photo(rep + 1);
    const first = await ask(`You are assistant ${rep}a.`, image);
    const again = await ask(`You are assistant ${rep}b, another one.`, image);
    if (first.cached_images !== 0 || again.cached_images !== 1) {
      throw new Error(`unexpected cache use: ${first.cached_images}, ${again.cached_images}`);
    }
    fresh.push(first.time_to_first_token_ms);
    repeated.push(again.time_to_first_token_ms);
    encodes.push(first.image_encode_ms);
  }
  await server.close();
  await core.close();
  const table = [
    '## Local API: a repeated image (`npm run bench:api`)',
    '',
    `${machineLine()}. CLIP ViT-L/14-336 with random weights and a tiny LLM, one 640 x 640 JPEG`,
    'per request through the OpenAI dialect; the second request has another system prompt, so',
    "only the engine's embedding cache (keyed by pixels) can spare the encoder. Medians of",
    `${REPS} images.`,
    '',
    '| request                    | time to first token | image encode |',
    '| -------------------------- | ------------------- | ------------ |',
    `| new image                  | ${Math.round(median(fresh))} ms | ${Math.round(median(encodes))} ms |`,
    `| same image, another prompt | ${Math.round(median(repeated))} ms | 0 ms (cached) |`,
  ].join('\n');
  console.log(table);
  await writeReport('api-image-cache', table);
} finally {
  await rm(dir, { recursive: true, force: true });
}
