import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ollama } from 'ollama';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHORT_ANSWER_SUFFIX } from '../../src-main/engine/prompt/conversation.js';
import { SHAPES_PAIR } from '../e2e/support/shapes-model.js';
import { apiClients, dataUrl } from '../support/api-clients.js';
import { installPair } from '../support/data-folder.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import {
  renderScene,
  type ShapeColour,
  type ShapeKind,
  type SceneSpec,
} from '../support/shape-scenes.js';

// The local API with the committed shapes model (docs/SHAPES-MODEL.md): simultaneous requests
// from the official clients, each about its own picture, each answered about that picture. The
// tiny random pair in serve-api.test.ts can only show that answers differ; this one shows that
// none is answered about another request's image.

let dir: string;
let serve: ServeProcess;
let openai: OpenAI;
let ollama: Ollama;
const MODEL = 'tiny'; // installPair's id

const COLOURS: ShapeColour[] = [
  'red',
  'green',
  'blue',
  'yellow',
  'purple',
  'orange',
  'white',
  'black',
];
const KINDS: ShapeKind[] = ['circle', 'square', 'triangle'];

function scene(i: number): { spec: SceneSpec; kind: ShapeKind; colour: ShapeColour } {
  const colour = COLOURS[i % COLOURS.length]!;
  const kind = KINDS[i % KINDS.length]!;
  const background: ShapeColour = colour === 'white' || colour === 'yellow' ? 'black' : 'white';
  const width = 300 + i * 40;
  const height = 260 + ((i * 70) % 200);
  const size = Math.round(Math.min(width, height) * 0.5);
  return {
    kind,
    colour,
    spec: {
      width,
      height,
      background,
      shapes: [{ kind, colour, cx: width / 2 + 10, cy: height / 2 - 5, size }],
    },
  };
}

const question = (kind: ShapeKind): string => `What color is the ${kind}?${SHORT_ANSWER_SUFFIX}`;

/** One greedy answer through the `openai` client about one image. */
async function askOpenAI(image: Buffer, text: string): Promise<string> {
  const answer = await openai.chat.completions.create({
    model: MODEL,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: dataUrl(image) } },
          { type: 'text', text },
        ],
      },
    ],
    temperature: 0,
  });
  return answer.choices[0]?.message.content ?? '';
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-serve-meaning-'));
  const dataDir = join(dir, 'data');
  await installPair(dataDir, SHAPES_PAIR, {
    threads: 1,
    contextSize: 2048,
    maxTokens: 8,
    // All 8 requests at once, each in a sequence of its own.
    parallelAnswers: 8,
  });
  serve = await startServe(dataDir);
  ({ openai, ollama } = apiClients(serve));
});

afterAll(async () => {
  if (serve) expect(serve.problems()).toEqual([]);
  await serve?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the API with a model that sees', () => {
  it('answers 8 simultaneous requests, each about its own image', async () => {
    const scenes = Array.from({ length: 8 }, (_, i) => scene(i));
    const images = await Promise.all(scenes.map((s) => renderScene(s.spec)));
    // Half through the OpenAI client, half through the Ollama client, all at once.
    const answers = await Promise.all(
      scenes.map(async (s, i) => {
        const image = images[i]!;
        if (i % 2 === 0) {
          return askOpenAI(image, question(s.kind));
        }
        const answer = await ollama.chat({
          model: MODEL,
          messages: [{ role: 'user', content: question(s.kind), images: [image] }],
          options: { temperature: 0 },
        });
        return answer.message.content;
      }),
    );
    expect(answers.map((a) => a.trim().toLowerCase())).toEqual(scenes.map((s) => s.colour));
  });

  it('names the colour of the shape asked about when a picture holds two', async () => {
    // Each picture asked about both of its shapes: a model (or a pipeline) that does not bind a
    // colour to its shape gives both questions the same answer, so half of these would fail.
    const pairs: [ShapeKind, ShapeColour, ShapeKind, ShapeColour][] = [
      ['circle', 'red', 'square', 'blue'],
      ['triangle', 'green', 'circle', 'orange'],
      ['square', 'yellow', 'triangle', 'purple'],
    ];
    const asked = (
      await Promise.all(
        pairs.map(async ([k1, c1, k2, c2], i) => {
          const image = await renderScene({
            width: 420 + i * 30,
            height: 300,
            background: 'white',
            shapes: [
              { kind: k1, colour: c1, cx: 110, cy: 150, size: 130 },
              { kind: k2, colour: c2, cx: 300 + i * 20, cy: 150, size: 130 },
            ],
          });
          return [
            { image, kind: k1, colour: c1 },
            { image, kind: k2, colour: c2 },
          ];
        }),
      )
    ).flat();
    const answers = await Promise.all(
      asked.map(async ({ image, kind }) =>
        (await askOpenAI(image, question(kind))).trim().toLowerCase(),
      ),
    );
    expect(answers).toEqual(asked.map((a) => a.colour));
  });
});
