// npm run bench:engine — the engine against upstream llama-mtmd-cli on a realistic-shape pair
// (CLIP ViT-L/14-336 + a 1.1B LLM in Q8_0, random weights), same image, prompt and threads, in
// one run. Writes the table to docs/BENCHMARKS.md.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ChatSession } from '../../src-main/engine/chat-session.js';
import { VisionEngine } from '../../src-main/engine/vision-engine.js';
import { pixelHash } from '../../src-main/imaging/index.js';
import { sharedEngine } from './engine-shared.js';
import {
  CACHE,
  MTMD_CLI,
  ROOT,
  THREADS,
  machineLine,
  median,
  ratio,
  realisticPair,
  runMtmdCliOnce,
  runProcess,
  writeReport,
} from './common.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const PLAIN_DRIVER = join(ROOT, 'native', 'build', 'bin', 'llava-desk-mtmd-ask');
const N_PREDICT = 32;
const CONTEXT = 4096;
const PROMPT = 'Describe the image in detail.';
/** The data folder of the cold runs: where the engine remembers its start between them. */
const HOME = join(CACHE, 'cold-home');

interface ColdRun {
  wallMs: number;
  encodeMs: number;
  promptTokens: number;
  promptEvalMs: number;
  genTokensPerSecond: number;
}

/** The benchmark's 336 px photo; other variants differ in every pixel (new to any cache). */
async function photo(variant = 0): Promise<string> {
  const path = join(CACHE, variant === 0 ? 'photo-336.png' : `photo-336-${variant}.png`);
  if (existsSync(path)) return path;
  await mkdir(CACHE, { recursive: true });
  const size = 336;
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const i = (y * size + x) * 3;
      const ring = Math.sin(Math.hypot(x - 168, y - 140) / (9 + variant)) * 60;
      raw[i] = 120 + ring + ((x * 7 + variant) % 23);
      raw[i + 1] = 90 + (y / size) * 120 - ring / 2;
      raw[i + 2] = 60 + (x / size) * 140 + ((x * y + variant) % 17);
    }
  }
  await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(path);
  return path;
}

function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`llama-mtmd-cli output has no ${pattern}`);
  return Number(match[1]);
}

async function upstreamCold(
  modelPath: string,
  mmprojPath: string,
  image: string,
): Promise<ColdRun> {
  const run = await runMtmdCliOnce({
    pair: { modelPath, mmprojPath },
    image,
    prompt: PROMPT,
    tokens: N_PREDICT,
    context: CONTEXT,
    extraArgs: ['--verbose'],
  });
  const log = run.stderr;
  return {
    wallMs: run.wallMs,
    encodeMs: number(log, /(?:slice encoded in|batch encoding done in) (\d+) ms/),
    promptTokens: number(log, /prompt eval time =\s+[\d.]+ ms \/\s+(\d+) tokens/),
    // llama.cpp times prompt eval from the first decode to the next synchronize, and the CLIP
    // encode of an image runs in between: take it out to compare decode with decode.
    promptEvalMs:
      number(log, /prompt eval time =\s+([\d.]+) ms/) -
      number(log, /(?:slice encoded in|batch encoding done in) (\d+) ms/),
    genTokensPerSecond: number(log, /\beval time =.*?runs.*?([\d.]+) tokens per second/),
  };
}

/** The plain libmtmd program (native/tools/mtmd-ask.cpp): load, evaluate, generate, print. */
async function plainCold(modelPath: string, mmprojPath: string, image: string): Promise<number> {
  const run = await runProcess(PLAIN_DRIVER, [
    '-m',
    modelPath,
    '--mmproj',
    mmprojPath,
    '--image',
    image,
    '-p',
    PROMPT,
    '-n',
    String(N_PREDICT),
    '-t',
    String(THREADS),
    '-c',
    String(CONTEXT),
  ]);
  if (run.code !== 0) throw new Error(`llava-desk-mtmd-ask failed (${run.code}):\n${run.stderr}`);
  return run.wallMs;
}

/**
 * `llava-desk ask` as a user runs it. `probe`: as on the first start after an install (the data
 * folder remembers no start, so node-llama-cpp picks the variant); else as on every later one.
 */
async function oursCold(
  modelPath: string,
  mmprojPath: string,
  image: string,
  probe = false,
): Promise<ColdRun & { startup: string }> {
  if (probe) await rm(join(HOME, 'engine-start.json'), { force: true });
  const env = { ...process.env, LLAVA_DESK_HOME: HOME };
  const run = await runProcess(
    process.execPath,
    [
      join(ROOT, 'bin', 'llava-desk.js'),
      'ask',
      '--model',
      modelPath,
      '--mmproj',
      mmprojPath,
      '--image',
      image,
      '--prompt',
      PROMPT,
      '--max-tokens',
      String(N_PREDICT),
      '--temperature',
      '0',
      '--threads',
      String(THREADS),
      '--context-size',
      String(CONTEXT),
      '--json',
    ],
    env,
  );
  if (run.code !== 0)
    throw new Error(`llava-desk ask failed (${run.code}):\n${run.stdout}${run.stderr}`);
  const { stats, engine } = JSON.parse(run.stdout) as {
    engine?: { startup?: string };
    stats: {
      imageEncodeMs: number;
      promptTokens: number;
      promptMs: number;
      tokensPerSecond: number;
    };
  };
  return {
    wallMs: run.wallMs,
    startup: engine?.startup ?? 'unknown',
    encodeMs: stats.imageEncodeMs,
    promptTokens: stats.promptTokens,
    promptEvalMs: stats.promptMs - stats.imageEncodeMs,
    genTokensPerSecond: stats.tokensPerSecond,
  };
}

async function warmTurns(modelPath: string, mmprojPath: string, image: string) {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const bitmap = { width: info.width, height: info.height, data };
  const prepared = { id: pixelHash(bitmap), width: info.width, height: info.height, rgb: data };
  const engine = await VisionEngine.load({
    modelPath,
    mmprojPath,
    threads: THREADS,
    contextSize: CONTEXT,
    parallel: 2,
  });
  try {
    const sampling = { temperature: 0, maxTokens: N_PREDICT };
    const session = new ChatSession(engine, { sampling });
    const first = await session.ask({ text: PROMPT, images: [prepared] });
    const followUp = await session.ask({ text: 'What colours stand out?' });
    const reAsk = await new ChatSession(engine, { sampling }).ask({
      text: PROMPT,
      images: [prepared],
    });
    return { first, followUp, reAsk };
  } finally {
    await engine.dispose();
  }
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  if (!existsSync(MTMD_CLI) || !existsSync(PLAIN_DRIVER))
    throw new Error('llama-mtmd-cli or llava-desk-mtmd-ask is not built: run npm run build:native');
  const { modelPath, mmprojPath } = await realisticPair();
  const image = await photo();
  const theirs: ColdRun[] = [];
  const ours: (ColdRun & { startup: string })[] = [];
  const plain: number[] = [];
  const probed: (ColdRun & { startup: string })[] = [];
  for (let rep = 0; rep < REPS; rep += 1) {
    console.error(`bench:engine: cold run ${rep + 1}/${REPS}`);
    probed.push(await oursCold(modelPath, mmprojPath, image, true));
    theirs.push(await upstreamCold(modelPath, mmprojPath, image));
    ours.push(await oursCold(modelPath, mmprojPath, image));
    plain.push(await plainCold(modelPath, mmprojPath, image));
  }
  const starts = [...new Set(ours.map((r) => r.startup))].join(', ');
  if (starts !== 'remembered' || probed.some((r) => r.startup !== 'probed'))
    throw new Error(
      `bench:engine: cold runs started ${starts}, first starts ${probed.map((r) => r.startup).join(', ')}`,
    );
  console.error('bench:engine: follow-up and re-ask in one engine');
  const warm = await warmTurns(modelPath, mmprojPath, image);
  const coldWallMs = median(ours.map((r) => r.wallMs));
  const shared = await sharedEngine({
    pair: { modelPath, mmprojPath },
    prompt: PROMPT,
    tokens: N_PREDICT,
    context: CONTEXT,
    photo,
    coldWallMs,
  });

  const m = (runs: ColdRun[], key: keyof ColdRun): number => median(runs.map((r) => r[key]));
  const promptRate = (runs: ColdRun[]): number =>
    median(runs.map((r) => (r.promptTokens / r.promptEvalMs) * 1000));
  const rows = [
    [
      'cold ask, wall time (process start to exit)',
      fmt(m(ours, 'wallMs')),
      fmt(m(theirs, 'wallMs')),
      ratio(m(ours, 'wallMs'), m(theirs, 'wallMs')),
      '≤ 1.05x',
    ],
    [
      'cold ask against a plain libmtmd program (`llava-desk-mtmd-ask`), wall time',
      fmt(m(ours, 'wallMs')),
      fmt(median(plain)),
      ratio(m(ours, 'wallMs'), median(plain)),
      '≤ 1.05x',
    ],
    [
      'first ask after an install (node-llama-cpp probes the binaries), wall time',
      fmt(m(probed, 'wallMs')),
      fmt(m(theirs, 'wallMs')),
      ratio(m(probed, 'wallMs'), m(theirs, 'wallMs')),
      '—',
    ],
    [
      'image encode',
      `${m(ours, 'encodeMs').toFixed(0)} ms`,
      `${m(theirs, 'encodeMs').toFixed(0)} ms`,
      ratio(m(ours, 'encodeMs'), m(theirs, 'encodeMs')),
      'within 3%',
    ],
    [
      'prompt eval (tokens/s)',
      promptRate(ours).toFixed(1),
      promptRate(theirs).toFixed(1),
      ratio(promptRate(ours), promptRate(theirs)),
      'within 3%',
    ],
    [
      'generation (tokens/s)',
      m(ours, 'genTokensPerSecond').toFixed(2),
      m(theirs, 'genTokensPerSecond').toFixed(2),
      ratio(m(ours, 'genTokensPerSecond'), m(theirs, 'genTokensPerSecond')),
      'within 3%',
    ],
  ];
  const ttft = warm.first.stats.timeToFirstTokenMs;
  const warmRows = [
    ['first turn, time to first token', fmt(ttft), '—', '—'],
    [
      'follow-up, time to first token',
      fmt(warm.followUp.stats.timeToFirstTokenMs),
      ratio(warm.followUp.stats.timeToFirstTokenMs, ttft),
      '≤ 0.05x',
    ],
    [
      'same image re-asked in a new session, time to first token',
      fmt(warm.reAsk.stats.timeToFirstTokenMs),
      ratio(warm.reAsk.stats.timeToFirstTokenMs, ttft),
      '≤ 0.20x',
    ],
  ];
  const sharedRows = [
    [
      '`llava-desk ask` attached to a running serve, image seen before, wall time',
      fmt(shared.attachedSeenMs),
      `${ratio(shared.attachedSeenMs, coldWallMs)} of cold (${fmt(coldWallMs)})`,
      '≤ 0.20x',
    ],
    [
      '`llava-desk ask` attached, new image, wall time',
      fmt(shared.attachedNewMs),
      `${ratio(shared.attachedNewMs, coldWallMs - shared.loadMs)} of cold minus load (${fmt(coldWallMs - shared.loadMs)})`,
      'no load',
    ],
    [
      'chat question while a batch writes 8 answers, time to first token',
      fmt(shared.ttftBusyMs),
      `${ratio(shared.ttftBusyMs, shared.ttftIdleMs)} of idle (${fmt(shared.ttftIdleMs)})`,
      '≤ 2x',
    ],
    [
      'peak RSS of serve + engine, chat and a batch together',
      `${(shared.rssBothKb / 1024).toFixed(0)} MiB`,
      `${ratio(shared.rssBothKb, shared.rssChatKb)} of chat alone (${(shared.rssChatKb / 1024).toFixed(0)} MiB)`,
      '≤ 1.15x',
    ],
  ];
  const table = (head: string[], body: string[][]): string =>
    [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  const report = `## Engine: llava-desk against llama-mtmd-cli (\`npm run bench:engine\`)

Pair: generated realistic shapes (CLIP ViT-L/14-336 f16 mmproj, 576 image tokens; 1.1B-parameter
LLM in Q8_0, TinyLlama shape), random weights. Image: 336x336 PNG. Prompt: "${PROMPT}",
${N_PREDICT} tokens, greedy, context ${CONTEXT}. Median of ${REPS} cold runs each, alternating.
Machine: ${machineLine()}. Measured ${new Date().toISOString().slice(0, 10)}.

${table(['measure', 'llava-desk', 'llama-mtmd-cli', 'ratio', 'target'], rows)}

Cold runs are whole processes: \`llava-desk ask --json\` (CLI, image pipeline, engine process,
model load; the engine starts from what its data folder remembers of the first start, without
node-llama-cpp) against \`llama-mtmd-cli\` and against \`llava-desk-mtmd-ask\`, the least a program
does to answer with libmtmd (native/tools/mtmd-ask.cpp: load, evaluate the prompt with the image,
generate greedily, print; built from the same source), all started by Node the same way. Prompt eval is the prompt's decode time without the CLIP
encode (${m(ours, 'promptTokens')} tokens here, ${m(theirs, 'promptTokens')} upstream; upstream's
\`prompt eval time\` counts the encode that runs between its decodes, so it is subtracted). Image
encode is timed around the encoder call here and by mtmd-helper's log line upstream.

Warm turns in one engine (in-process, same machine, same run):

${table(['measure', 'time', 'ratio to first turn', 'target'], warmRows)}

One engine for everything (same pair, prompt and threads, same run):

${table(['measure', 'llava-desk', 'ratio', 'target'], sharedRows)}

Attached runs go through a \`llava-desk serve\` of a data folder holding the pair (the CLI finds
it through the data folder's discovery file); the model load measured in-process was
${fmt(shared.loadMs)}. The chat question asks about an image the engine has not seen (its encode is
in both times); the batch's 8 answers are generated in 8 sequences of one engine, so the question
takes one item's sequence (${shared.preempted} preempted, described again). Memory: peak RSS
(VmHWM) of the serve process and its engine process after chat questions, then after a
\`llava-desk describe\` of 8 photos through the same serve with a chat question during it.
`;
  console.log(report);
  await writeReport('engine', report);
}

await main();
