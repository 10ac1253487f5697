import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import type {
  ApiMessage,
  EngineStatus,
  EventName,
  EventPayload,
} from '../../src-main/api/contract.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { importModel } from '../../src-main/models/import-model.js';
import { CountedLauncher } from '../support/counted-launcher.js';
import { installPair } from '../support/data-folder.js';
import { makeTestImage } from '../support/tiny-images.js';

// Chat and a batch job share the app's one engine process (one copy of the model): a question
// asked while the job runs is answered between the job's steps, before the job ends; another
// model is refused while the job runs.

const IMAGES = 40;
let dir: string;
let folder: string;
let core: AppCore;
let pngBytes: Uint8Array;
const counted = new CountedLauncher();
const events: { name: EventName; payload: unknown; at: number }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-shared-engine-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 11 });
  const other = await makeLlavaPair({ outDir: join(dir, 'other'), seed: 12 });
  const dataDir = join(dir, 'data');
  await installPair(dataDir, pair, { threads: 1, contextSize: 1024, maxTokens: 8 });
  await importModel({
    path: other.modelPath,
    mmprojPath: other.mmprojPath,
    modelsDir: join(dataDir, 'models'),
    id: 'other',
  });
  folder = join(dir, 'photos');
  await mkdir(folder);
  const patterns = ['gradient', 'checker', 'stripes', 'dark'] as const;
  for (let i = 0; i < IMAGES; i += 1) {
    const side = 32 + i;
    await makeTestImage(folder, `p${i}`, { width: side, height: 40 }, patterns[i % 4] ?? 'dark');
  }
  pngBytes = await readFile(
    (await makeTestImage(dir, 'ask', { width: 48, height: 32 }, 'checker')).pngPath,
  );
  core = await AppCore.open({
    dataDir,
    mode: 'web',
    hfBaseUrl: 'http://127.0.0.1:9',
    engineLauncher: counted.launcher,
  });
  await core.call('models.select', { id: 'tiny' });
  core.subscribe((name, payload) => events.push({ name, payload, at: performance.now() }));
}, 120_000);

afterAll(async () => {
  await core?.close();
  await rm(dir, { recursive: true, force: true });
});

function nextEvent<E extends EventName>(
  name: E,
  match: (payload: EventPayload<E>) => boolean,
): Promise<EventPayload<E>> {
  return new Promise((resolve) => {
    const off = core.subscribe((n, payload) => {
      if (n === name && match(payload as EventPayload<E>)) {
        off();
        resolve(payload as EventPayload<E>);
      }
    });
  });
}

async function ask(conversationId: string, imageId: string): Promise<ApiMessage> {
  const sent = await core.call('chats.send', {
    conversationId,
    text: 'What is this?',
    images: [imageId],
  });
  const ended = await nextEvent('chats.message', (p) => p.message.id === sent.answer.id);
  return ended.message;
}

describe('one engine for chat and batch', () => {
  it('answers a chat question while a batch runs, in the same engine process', async () => {
    const image = await core.call('images.add', { name: 'ask.png', data: pngBytes });
    const chat = await core.call('chats.create', {});
    // The chat loads the model first (the chat settings), in the one engine process.
    expect((await ask(chat.id, image.ref.id)).status).toBe('complete');
    expect(counted.started).toBe(1);

    const before = events.length;
    const firstDone = nextEvent('batch.item', (p) => p.item.state === 'done');
    const finished = nextEvent('batch.progress', (p) => p.state === 'finished');
    await core.call('batch.start', { folder, preset: 'caption', outputs: ['txt'], maxTokens: 24 });
    await firstDone;

    // A question while the job is running: answered before the job ends.
    const answer = await ask(chat.id, image.ref.id);
    const answeredAt = performance.now();
    expect(answer.status).toBe('complete');
    expect(answer.text.length).toBeGreaterThan(0);
    const progress = await finished;
    const finishedAt = events.find(
      (e) => e.name === 'batch.progress' && (e.payload as { state: string }).state === 'finished',
    )?.at;
    expect(finishedAt).toBeGreaterThan(answeredAt);
    expect(progress.summary).toMatchObject({ described: IMAGES, failed: 0 });

    // One engine process all along: the job reloaded the chat's process with its sequences.
    expect(counted.started).toBe(1);
    expect(counted.maxAlive).toBe(1);
    // One load since the job started: the job's own (the chat meanwhile loaded nothing).
    const loads = events
      .slice(before)
      .filter((e) => e.name === 'engine.status')
      .map((e) => (e.payload as EngineStatus).state);
    expect(loads.filter((s) => s === 'loading')).toHaveLength(1);
  }, 180_000);

  it('answers a question sent just as a batch starts (it waits for the reload, not fails)', async () => {
    const image = await core.call('images.add', { name: 'ask.png', data: pngBytes });
    const chat = await core.call('chats.create', {});
    const finished = nextEvent('batch.progress', (p) => p.state === 'finished');
    const answering = ask(chat.id, image.ref.id);
    await core.call('batch.start', {
      folder,
      preset: 'caption',
      outputs: ['txt'],
      existing: 'overwrite',
      maxTokens: 4,
    });
    const answer = await answering;
    expect(answer.error).toBeUndefined();
    expect(answer.status).toBe('complete');
    expect((await finished).summary).toMatchObject({ described: IMAGES, failed: 0 });
    expect(counted.started).toBe(1);
  }, 180_000);

  it('survives the engine dying under a chat and a batch: chat ENGINE_CRASHED with its text, batch complete', async () => {
    await core.call('settings.update', { maxTokens: 3000 });
    const image = await core.call('images.add', { name: 'ask.png', data: pngBytes });
    const chat = await core.call('chats.create', {});
    const startedBefore = counted.started;
    const firstDone = nextEvent('batch.item', (p) => p.item.state === 'done');
    const finished = nextEvent('batch.progress', (p) => p.state === 'finished');
    await core.call('batch.start', {
      folder,
      preset: 'caption',
      outputs: ['txt'],
      existing: 'overwrite',
      maxTokens: 24,
    });
    await firstDone;
    const sent = await core.call('chats.send', {
      conversationId: chat.id,
      text: 'What is this?',
      images: [image.ref.id],
    });
    // The engine process dies while the chat's answer is being written.
    const ended = nextEvent('chats.message', (p) => p.message.id === sent.answer.id);
    await nextEvent('chats.token', (p) => p.messageId === sent.answer.id);
    const killedAt = events.length;
    counted.killLatest();
    const answer = (await ended).message;
    expect(answer.status).toBe('error');
    expect(answer.error?.code).toBe('ENGINE_CRASHED');
    expect(answer.text.length).toBeGreaterThan(0);
    // The job goes on in the restarted process; the images in flight are described again.
    expect((await finished).summary).toMatchObject({ described: IMAGES, failed: 0 });
    expect(counted.started).toBe(startedBefore + 1);
    expect(counted.maxAlive).toBe(1);
    // The status said so, and that the model came back.
    const after = events
      .slice(killedAt)
      .filter((e) => e.name === 'engine.status')
      .map((e) => e.payload as EngineStatus);
    expect(after.map((st) => st.state)).toEqual(['error', 'loading', 'ready']);
    expect(after[0]?.error?.code).toBe('ENGINE_CRASHED');
    await core.call('settings.update', { maxTokens: 8 });
  }, 180_000);

  it('refuses another model while a batch runs (MODEL_BUSY), allows it after the job', async () => {
    const dispatch = createDispatcher(core);
    const running = nextEvent('batch.progress', (p) => p.state === 'running');
    const finished = nextEvent('batch.progress', (p) => p.state === 'finished');
    await core.call('batch.start', {
      folder,
      preset: 'caption',
      outputs: ['txt'],
      existing: 'overwrite',
      maxTokens: 24,
    });
    await running;
    // Paused, the job still holds the model (it continues where it stopped).
    const paused = nextEvent('batch.progress', (p) => p.state === 'paused');
    await core.call('batch.pause', {});
    await paused;
    expect(await dispatch('models.select', { id: 'other' })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_BUSY' },
    });
    expect(await dispatch('settings.update', { modelId: 'other' })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_BUSY' },
    });
    expect(await dispatch('models.delete', { id: 'tiny' })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_BUSY' },
    });
    expect((await core.call('settings.get', {})).modelId).toBe('tiny');
    await core.call('batch.resume', {});
    await finished;
    // After the job, switching is allowed again.
    expect((await core.call('models.select', { id: 'other' })).modelId).toBe('other');
    expect(counted.maxAlive).toBe(1);
  }, 180_000);
});
