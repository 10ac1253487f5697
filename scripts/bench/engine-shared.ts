// The "one engine" rows of `npm run bench:engine`: `llava-desk ask` attached to a running
// `llava-desk serve` against a cold one, a chat question's time to first token while a batch writes
// 8 answers against idle, and the memory of all llava-desk processes with chat and batch together
// against the engine with chat alone. Same pair, image, prompt and threads as the cold rows.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { PreparedImage } from '../../src-main/api/engine.js';
import type { CompletionRequest } from '../../src-main/engine/engine-requests.js';
import { VisionEngine } from '../../src-main/engine/vision-engine.js';
import { pixelHash } from '../../src-main/imaging/index.js';
import { importModel } from '../../src-main/models/import-model.js';
import { ROOT, THREADS, median, runProcess, type Pair } from './common.js';

const CLI = join(ROOT, 'bin', 'llava-desk.js');
const BATCH_SEQUENCES = 8;

export interface SharedEngineInput {
  pair: Pair;
  prompt: string;
  tokens: number;
  context: number;
  /** `photo(variant)`: the benchmark's 336 px photo, variants differ in every pixel. */
  photo: (variant: number) => Promise<string>;
  /** Median wall time of the cold `llava-desk ask` runs of the same run. */
  coldWallMs: number;
}

export interface SharedEngineResult {
  loadMs: number;
  attachedSeenMs: number;
  attachedNewMs: number;
  ttftIdleMs: number;
  ttftBusyMs: number;
  preempted: number;
  rssChatKb: number;
  rssBothKb: number;
}

async function prepared(path: string): Promise<PreparedImage> {
  const { data, info } = await sharp(path)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const bitmap = { width: info.width, height: info.height, data };
  return { id: pixelHash(bitmap), width: info.width, height: info.height, rgb: data };
}

/** In one engine with 8 sequences: a chat question alone, then while 8 batch answers run. */
async function chatDuringBatch(input: SharedEngineInput): Promise<{
  loadMs: number;
  ttftIdleMs: number;
  ttftBusyMs: number;
  preempted: number;
}> {
  const started = performance.now();
  const engine = await VisionEngine.load({
    ...input.pair,
    threads: THREADS,
    contextSize: input.context,
    parallel: BATCH_SEQUENCES,
  });
  const loadMs = performance.now() - started;
  try {
    const ask = (image: PreparedImage, id: string): Promise<number> =>
      engine
        .complete({
          sessionId: id,
          conversation: { turns: [{ user: input.prompt, imageCount: 1 }] },
          images: [image],
          sampling: { temperature: 0, maxTokens: input.tokens },
        })
        .then((r) => r.stats.timeToFirstTokenMs);
    // Each question about an image the engine has not seen: the encode is part of both.
    const ttftIdleMs = await ask(await prepared(await input.photo(11)), 'chat-idle');
    const batchImage = await prepared(await input.photo(12));
    const busyImage = await prepared(await input.photo(13));
    const requests: CompletionRequest[] = Array.from({ length: BATCH_SEQUENCES }, (_, i) => ({
      sessionId: `batch-${i}`,
      conversation: { turns: [{ user: `${input.prompt} (${i})`, imageCount: 1 }] },
      images: [batchImage],
      sampling: { temperature: 0, maxTokens: 4 * input.tokens },
    }));
    const writing = new Set<number>();
    let allWriting: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (allWriting = resolve));
    const batch = engine.completeMany(requests, {
      onToken: (index) => {
        writing.add(index);
        if (writing.size === BATCH_SEQUENCES) allWriting();
      },
    });
    await ready;
    const ttftBusyMs = await ask(busyImage, 'chat-busy');
    const outcomes = await batch;
    const preempted = outcomes.filter((o) => !o.ok && o.error.code === 'PREEMPTED').length;
    return { loadMs, ttftIdleMs, ttftBusyMs, preempted };
  } finally {
    await engine.dispose();
  }
}

interface Serve {
  pid: number;
  stop: () => Promise<void>;
}

async function startServe(dataDir: string): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('serving at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return {
    pid: child.pid as number,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Peak resident memory (VmHWM) of `pid` and its descendants, in kB (Linux). */
function peakRssKb(pid: number): number {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of table.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)/.exec(line);
    if (!m) continue;
    const list = children.get(Number(m[2])) ?? [];
    list.push(Number(m[1]));
    children.set(Number(m[2]), list);
  }
  let total = 0;
  const visit = (p: number): void => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // Gone meanwhile (node-llama-cpp's short-lived binary test).
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return total;
}

/** `llava-desk ask` through a running serve, and the memory of chat and batch in its engine. */
async function attached(input: SharedEngineInput): Promise<{
  attachedSeenMs: number;
  attachedNewMs: number;
  rssChatKb: number;
  rssBothKb: number;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'llava-desk-bench-shared-'));
  const dataDir = join(dir, 'data');
  let serve: Serve | undefined;
  try {
    await importModel({
      path: input.pair.modelPath,
      mmprojPath: input.pair.mmprojPath,
      modelsDir: join(dataDir, 'models'),
      id: 'bench',
    });
    const settings = {
      threads: THREADS,
      contextSize: input.context,
      maxTokens: input.tokens,
      temperature: 0,
    };
    await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ schemaVersion: 1, settings }));
    serve = await startServe(dataDir);
    const ask = async (image: string): Promise<number> => {
      const run = await runProcess(process.execPath, [
        CLI,
        'ask',
        '--data-dir',
        dataDir,
        '--image',
        image,
        '--prompt',
        input.prompt,
        '--max-tokens',
        String(input.tokens),
        '--temperature',
        '0',
        '--json',
        '--verbose',
      ]);
      // --verbose says where the answer came from: through the server, not a private engine.
      if (run.code !== 0 || !run.stderr.includes('attached to llava-desk')) {
        throw new Error(`attached ask failed (${run.code}):\n${run.stderr}`);
      }
      return run.wallMs;
    };
    const seen = await input.photo(0);
    await ask(seen); // loads the model in the serve's engine
    const attachedSeenMs = median([await ask(seen), await ask(seen)]);
    const attachedNewMs = median([
      await ask(await input.photo(21)),
      await ask(await input.photo(22)),
    ]);
    const rssChatKb = peakRssKb(serve.pid);

    const folder = join(dir, 'photos');
    await mkdir(folder);
    for (let i = 0; i < 8; i += 1)
      await copyFile(await input.photo(30 + i), join(folder, `p${i}.png`));
    const job = runProcess(process.execPath, [
      CLI,
      'describe',
      folder,
      '--data-dir',
      dataDir,
      '--max-tokens',
      String(input.tokens),
    ]);
    await new Promise((r) => setTimeout(r, 3000));
    await ask(await input.photo(40));
    const described = await job;
    if (described.code !== 0) throw new Error(`describe failed:\n${described.stderr}`);
    const rssBothKb = peakRssKb(serve.pid);
    return { attachedSeenMs, attachedNewMs, rssChatKb, rssBothKb };
  } finally {
    await serve?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function sharedEngine(input: SharedEngineInput): Promise<SharedEngineResult> {
  console.error('bench:engine: chat question while a batch writes 8 answers');
  const inProcess = await chatDuringBatch(input);
  console.error('bench:engine: ask attached to a running serve; memory with chat and batch');
  const viaServe = await attached(input);
  return { ...inProcess, ...viaServe };
}
