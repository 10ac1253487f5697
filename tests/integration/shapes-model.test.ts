import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHORT_ANSWER_SUFFIX } from '../../src-main/engine/prompt/conversation.js';
import { LLAVA_V1_SYSTEM } from '../../src-main/engine/prompt/vicuna-v1.js';
import { SHAPES_PAIR } from '../e2e/support/shapes-model.js';
import { cliAnswer, runMtmdCli } from '../support/mtmd-cli.js';
import { writeScene, type SceneSpec } from '../support/shape-scenes.js';
import { runCli } from '../support/run-cli.js';

// The committed shapes model (docs/SHAPES-MODEL.md) against what it was trained with and against
// upstream: the Python tokenizer's ids (tokens.json, written by scripts/shapes-model/tokens.py)
// equal llama.cpp's, and our answers equal llama-mtmd-cli's (built from the same source) when
// libmtmd preprocesses, and both name what the picture shows.

// LLaVA-1.5's vicuna_v1 as llama-mtmd-cli's Jinja template: its chat mode puts the image marker
// straight before the one-line prompt, so the template adds the newlines the app's template
// writes after the image and before the short-answer instruction.
const VICUNA_V1_JINJA =
  "{% for m in messages %}{% if m.role == 'user' %}" +
  `${LLAVA_V1_SYSTEM} USER: {{ m.content | replace('<__media__>', '<__media__>\n')` +
  " | replace(' Answer the question', '\nAnswer the question') }} ASSISTANT:{% endif %}{% endfor %}";

let dir: string;
let llama: Llama;
let model: LlamaModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-shapes-'));
  llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: SHAPES_PAIR.modelPath });
});

afterAll(async () => {
  await model?.dispose();
  await llama?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('shapes model', () => {
  it('llama.cpp tokenizes every prompt text as the Python tokenizer did in training', async () => {
    const texts = JSON.parse(
      await readFile(new URL('../fixtures/shapes-model/tokens.json', import.meta.url), 'utf8'),
    ) as { text: string; ids: number[] }[];
    expect(texts.length).toBeGreaterThan(30);
    for (const { text, ids } of texts) {
      expect(Array.from(model.tokenize(text, false)), JSON.stringify(text)).toEqual(ids);
    }
  });

  const scenes: { name: string; spec: SceneSpec; question: string; answer: string }[] = [
    {
      name: 'red-circle',
      spec: {
        width: 640,
        height: 480,
        background: 'white',
        shapes: [{ kind: 'circle', colour: 'red', cx: 300, cy: 250, size: 230 }],
      },
      question: 'What color is the circle?',
      answer: 'red',
    },
    {
      name: 'triangle',
      spec: {
        width: 500,
        height: 700,
        background: 'blue',
        shapes: [{ kind: 'triangle', colour: 'yellow', cx: 240, cy: 360, size: 260 }],
      },
      question: 'What shape is this?',
      answer: 'triangle',
    },
  ];

  it('answers as llama-mtmd-cli does on the same pixels, and the answer names the picture', async () => {
    for (const scene of scenes) {
      const image = await writeScene(dir, scene.name, scene.spec);
      const { code, out, err } = await runCli([
        ...['ask', '--model', SHAPES_PAIR.modelPath],
        ...['--mmproj', SHAPES_PAIR.mmprojPath, '--threads', '1', '--data-dir', join(dir, 'd')],
        ...['--image', image, '--prompt', scene.question, '--short', '--image-prep', 'runtime'],
        ...['--max-tokens', '8', '--context-size', '2048', '--json'],
      ]);
      expect(code, err).toBe(0);
      const ours = (JSON.parse(out) as { text: string }).text;
      const upstream = await runMtmdCli({
        ...SHAPES_PAIR,
        images: [image],
        prompt: `${scene.question}${SHORT_ANSWER_SUFFIX.replace('\n', ' ')}`,
        maxTokens: 8,
        threads: 1,
        contextSize: 2048,
        extraArgs: ['--jinja', '--chat-template', VICUNA_V1_JINJA],
      });
      expect(upstream.code, upstream.stderr.slice(-1500)).toBe(0);
      expect(ours, scene.name).toBe(cliAnswer(upstream).trimStart());
      expect(ours, scene.name).toBe(scene.answer);
    }
  });
});
