// npm run eval:shapes-model [-- --count 400 --seed 1000 --runtime-count 100]: accuracy of the
// committed shapes model through the app, per question. Held-out scenes are drawn at full size
// by make_scenes.py (another seed than training; Python with numpy and Pillow) and answered by
// the built CLI: `llava-desk describe --short --prompt <question>` over the scenes that share a
// question (the app's own image pipeline, parallel sequences, one model load per question), and
// `llava-desk ask --image-prep runtime` for the first scenes (libmtmd preprocesses, as
// llama-mtmd-cli does), and by a plain libmtmd program (native/tools/mtmd-ask.cpp) built with and
// without llava-desk's patches to libmtmd. Then the same with the pipeline broken on purpose, to show the figures
// can fail: channels swapped, black padding (test-only LLAVA_DESK_TEST_IMAGE_FAULT) and an mmproj
// whose normalisation is removed (mean 0, std 1). Development tooling: tests and CI never run it.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'bin', 'llava-desk.js');
const fixtures = join(root, 'tests', 'fixtures', 'shapes-model');
const model = join(fixtures, 'shapes-llm.gguf');
const mmproj = join(fixtures, 'shapes-mmproj.gguf');

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '400' },
    seed: { type: 'string', default: '1000' },
    'runtime-count': { type: 'string', default: '100' },
    only: { type: 'string' },
  },
});
const work = join(root, '.cache', 'shapes-eval');
// The scenes' folder is named by the code that draws them too, so a change of design draws them
// again instead of scoring a new pair on the old scenes.
const drawing = createHash('sha256');
for (const file of ['scenes.py', 'make_scenes.py']) drawing.update(readFileSync(join(here, file)));
const scenes = join(
  work,
  `scenes-seed${values.seed}-n${values.count}-${drawing.digest('hex').slice(0, 12)}`,
);

function fail(message) {
  console.error(`eval:shapes-model: ${message}`);
  process.exit(1);
}

if (!existsSync(model) || !existsSync(mmproj))
  fail('no trained pair: run npm run train:shapes-model');
if (!existsSync(cli) || !existsSync(join(root, 'dist'))) fail('build the CLI first: npm run build');

if (!existsSync(join(scenes, 'answers.jsonl'))) {
  const python = [process.env.PYTHON, 'python3', '/usr/bin/python3']
    .filter(Boolean)
    .find((p) => spawnSync(p, ['-c', 'import numpy, PIL'], { stdio: 'ignore' }).status === 0);
  if (!python) fail('no Python 3 with numpy and Pillow found to draw the scenes (set PYTHON)');
  const r = spawnSync(
    python,
    [join(here, 'make_scenes.py'), '--out', scenes, '--seed', values.seed, '--count', values.count],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) fail('make_scenes.py failed');
}

/** @type {{file: string, question: string, answer: string, detail: string}[]} */
const items = readFileSync(join(scenes, 'answers.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
// Digit questions are asked in both details: only high detail can read them.
const asked = items.flatMap((it) =>
  it.question.startsWith('What digit')
    ? [
        { ...it, detail: 'high' },
        { ...it, detail: 'standard' },
      ]
    : [it],
);

function kindOf(q, detail) {
  if (q.startsWith('What digit')) return `digit (${detail})`;
  if (q.startsWith('What shape')) return 'shape';
  if (q.startsWith('How many')) return 'count';
  if (q.startsWith('What color')) return 'colour';
  return 'left/right';
}

/** The answer's first word, lower case, without punctuation. */
const word = (text) =>
  (text
    .trim()
    .toLowerCase()
    .match(/[a-z]+/) ?? [''])[0];

function run(args, env = {}, program = process.execPath, programArgs = [cli]) {
  return new Promise((resolve) => {
    const child = spawn(program, [...programArgs, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Accuracy per question kind through `describe`, one run per (question, detail). */
async function throughDescribe(name, env, pair) {
  const dir = join(work, 'runs', name);
  rmSync(dir, { recursive: true, force: true });
  const groups = new Map();
  for (const it of asked) {
    const key = `${it.question}|${it.detail}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(it);
  }
  const right = {};
  const total = {};
  let g = 0;
  for (const [key, list] of groups) {
    const [question, detail] = key.split('|');
    const folder = join(dir, `q${g++}`);
    mkdirSync(folder, { recursive: true });
    for (const it of list) linkSync(join(scenes, it.file), join(folder, it.file));
    const r = await run(
      [
        'describe',
        folder,
        '--model',
        pair.model,
        '--mmproj',
        pair.mmproj,
        '--short',
        '--prompt',
        question,
        '--detail',
        detail,
        '--out',
        'jsonl',
        '--max-tokens',
        '4',
        '--json',
        '--data-dir',
        join(dir, 'data'),
      ],
      env,
    );
    if (r.code !== 0) fail(`describe failed (${name}, ${key}): ${r.err || r.out}`);
    const answers = new Map(
      readFileSync(join(folder, 'llava-desk.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .map((rec) => [rec.path, word(rec.text)]),
    );
    const kind = kindOf(question, detail);
    for (const it of list) {
      total[kind] = (total[kind] ?? 0) + 1;
      if (answers.get(it.file) === it.answer) right[kind] = (right[kind] ?? 0) + 1;
    }
  }
  return Object.fromEntries(
    Object.keys(total)
      .sort()
      .map((k) => [k, { right: right[k] ?? 0, total: total[k] }]),
  );
}

/** Accuracy per question kind over `list`, two answers at a time; `answerOf(it)` is the text. */
async function scoreTwoAtATime(list, answerOf) {
  const right = {};
  const total = {};
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const it = list[next++];
      const text = await answerOf(it);
      const kind = kindOf(it.question, it.detail);
      total[kind] = (total[kind] ?? 0) + 1;
      if (word(text) === it.answer) right[kind] = (right[kind] ?? 0) + 1;
    }
  };
  await Promise.all([worker(), worker()]);
  return Object.fromEntries(
    Object.keys(total)
      .sort()
      .map((k) => [k, { right: right[k] ?? 0, total: total[k] }]),
  );
}

/** Accuracy through `ask --image-prep runtime` on the first scenes, two at a time. */
function throughRuntimeAsk(limit) {
  const files = [...new Set(asked.map((it) => it.file))].slice(0, limit);
  return scoreTwoAtATime(
    asked.filter((it) => files.includes(it.file)),
    async (it) => {
      const r = await run([
        'ask',
        '--model',
        model,
        '--mmproj',
        mmproj,
        '--image',
        join(scenes, it.file),
        '--short',
        '--prompt',
        it.question,
        '--detail',
        it.detail,
        '--image-prep',
        'runtime',
        '--json',
        '--max-tokens',
        '4',
        '--data-dir',
        join(work, 'runs', 'runtime-data'),
      ]);
      return r.code === 0 ? JSON.parse(r.out.trim().split('\n').at(-1)).text : '';
    },
  );
}

/**
 * Accuracy of a plain libmtmd program (native/tools/mtmd-ask.cpp, libmtmd's own image loading
 * and preprocessing) on the first scenes' standard-detail questions: built from the app's patched
 * source, and from the source without the patches (native/patches, docs/UPSTREAM.md).
 */
function throughPlainDriver(flavour, limit) {
  const driver = join(root, 'native', 'build', 'bin', `llava-desk-mtmd-ask${flavour}`);
  if (!existsSync(driver)) fail(`${driver} is not built: run npm run build:native`);
  const files = [...new Set(asked.map((it) => it.file))].slice(0, limit);
  return scoreTwoAtATime(
    asked.filter((it) => files.includes(it.file) && it.detail === 'standard'),
    async (it) => {
      const prompt = `${it.question}\nAnswer the question using a single word or phrase.`;
      const r = await run(
        ['-m', model, '--mmproj', mmproj, '--image', join(scenes, it.file), '-p', prompt],
        {},
        driver,
        ['-n', '4', '-t', '1', '-c', '2048'],
      );
      return r.code === 0 ? r.out.split('\n')[0] : '';
    },
  );
}

/** A copy of the mmproj whose image mean is 0 and std 1: libmtmd then skips normalising. */
function withoutNormalisation() {
  const out = join(work, 'shapes-mmproj-no-normalisation.gguf');
  copyFileSync(mmproj, out);
  const bytes = readFileSync(out);
  for (const [key, value] of [
    ['clip.vision.image_mean', 0],
    ['clip.vision.image_std', 1],
  ]) {
    const at = bytes.indexOf(Buffer.from(key));
    if (at < 0) fail(`${key} not found in the mmproj`);
    // key, then value type u32 (9 array), element type u32 (6 float32), count u64, the floats.
    let p = at + key.length;
    if (bytes.readUInt32LE(p) !== 9 || bytes.readUInt32LE(p + 4) !== 6)
      fail(`${key} is not a float array`);
    const n = Number(bytes.readBigUInt64LE(p + 8));
    p += 16;
    for (let i = 0; i < n; i++) bytes.writeFloatLE(value, p + 4 * i);
  }
  writeFileSync(out, bytes);
  return out;
}

const configs = {
  app: () => throughDescribe('app', {}, { model, mmproj }),
  runtime: () => throughRuntimeAsk(Number(values['runtime-count'])),
  'libmtmd-patched': () => throughPlainDriver('', Number(values['runtime-count'])),
  'libmtmd-unpatched': () => throughPlainDriver('-upstream', Number(values['runtime-count'])),
  'swap-channels': () =>
    throughDescribe(
      'swap-channels',
      { LLAVA_DESK_TEST_IMAGE_FAULT: 'swap-channels' },
      { model, mmproj },
    ),
  'pad-black': () =>
    throughDescribe('pad-black', { LLAVA_DESK_TEST_IMAGE_FAULT: 'pad-black' }, { model, mmproj }),
  'no-normalisation': () =>
    throughDescribe('no-normalisation', {}, { model, mmproj: withoutNormalisation() }),
};

const results = {};
for (const [name, go] of Object.entries(configs)) {
  if (values.only && !values.only.split(',').includes(name)) continue;
  const started = Date.now();
  results[name] = await go();
  const line = Object.entries(results[name])
    .map(([k, v]) => `${k} ${(v.right / v.total).toFixed(3)} (${v.right}/${v.total})`)
    .join(', ');
  console.log(
    `eval:shapes-model: ${name}: ${line} [${((Date.now() - started) / 1000).toFixed(0)} s]`,
  );
}
const file = join(work, 'results.json');
writeFileSync(
  file,
  `${JSON.stringify({ seed: Number(values.seed), count: Number(values.count), results }, null, 2)}\n`,
);
console.log(`eval:shapes-model: wrote ${relative(root, file)}`);
