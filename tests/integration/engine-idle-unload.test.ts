import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import type { ApiMessage, EngineStatus, EventName } from '../../src-main/api/contract.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { CountedLauncher } from '../support/counted-launcher.js';
import { installPair } from '../support/data-folder.js';
import { makeTestImage } from '../support/tiny-images.js';

// The idle unload (Ollama's keep-alive) on the real engine process: after `idleUnloadMinutes`
// without work the process ends and the status says so; the next answer loads the model again.

let dir: string;
let core: AppCore;
let pngBytes: Uint8Array;
const counted = new CountedLauncher();
const events: { name: EventName; payload: unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-idle-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 9 });
  const dataDir = join(dir, 'data');
  // 0.02 minutes: 1.2 s without work.
  await installPair(dataDir, pair, {
    threads: 1,
    contextSize: 1024,
    maxTokens: 8,
    idleUnloadMinutes: 0.02,
  });
  pngBytes = await readFile(
    (await makeTestImage(dir, 'c', { width: 48, height: 32 }, 'checker')).pngPath,
  );
  core = await AppCore.open({
    dataDir,
    mode: 'web',
    hfBaseUrl: 'http://127.0.0.1:9',
    engineLauncher: counted.launcher,
  });
  core.subscribe((name, payload) => events.push({ name, payload }));
});

afterAll(async () => {
  await core?.close();
  await rm(dir, { recursive: true, force: true });
});

function nextEvent<T>(name: EventName, match: (payload: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const off = core.subscribe((n, payload) => {
      if (n === name && match(payload as T)) {
        off();
        resolve(payload as T);
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
  return nextEvent<{ conversationId: string; message: ApiMessage }>(
    'chats.message',
    (p) => p.message.id === sent.answer.id,
  ).then((p) => p.message);
}

const statuses = (): EngineStatus[] =>
  events.filter((e) => e.name === 'engine.status').map((e) => e.payload as EngineStatus);

describe('idle unload', () => {
  it('ends the engine process after the idle time and loads again at the next answer', async () => {
    expect((await core.call('settings.get', {})).idleUnloadMinutes).toBe(0.02);
    const image = await core.call('images.add', { name: 'c.png', data: pngBytes });
    const chat = await core.call('chats.create', {});

    const unloaded = nextEvent<EngineStatus>('engine.status', (s) => s.unloadedIdle === true);
    expect((await ask(chat.id, image.ref.id)).status).toBe('complete');
    expect(counted.started).toBe(1);
    expect(counted.alive).toBe(1);

    // The idle time passes with nothing running: the status says unloaded, the process is gone.
    const status = await unloaded;
    expect(status).toMatchObject({ state: 'idle', modelId: 'tiny', unloadedIdle: true });
    await counted.exits[0];
    expect(counted.alive).toBe(0);
    expect(await core.call('engine.status', {})).toMatchObject({
      state: 'idle',
      unloadedIdle: true,
    });

    // The next answer loads the model again in a fresh process.
    const seen = statuses().length;
    expect((await ask(chat.id, image.ref.id)).status).toBe('complete');
    expect(
      statuses()
        .slice(seen)
        .map((s) => s.state),
    ).toEqual(['loading', 'ready']);
    expect(counted.started).toBe(2);
    expect((await core.call('engine.status', {})).unloadedIdle).toBeUndefined();
  });

  it('never unloads under a batch job longer than the idle time, and unloads after it', async () => {
    const folder = join(dir, 'photos');
    await mkdir(folder);
    for (let i = 0; i < 24; i += 1) {
      await makeTestImage(folder, `p${i}`, { width: 32 + i, height: 32 }, 'stripes');
    }
    // 30 ms: shorter than any machine takes for 24 descriptions (a fast CI runner took 250 ms),
    // so the job outlasts the idle time many times over without depending on this machine's speed.
    const idleMinutes = 0.0005;
    await core.call('settings.update', { idleUnloadMinutes: idleMinutes });
    const finished = nextEvent<{ state: string; summary?: { described: number; ms: number } }>(
      'batch.progress',
      (p) => p.state === 'finished',
    );
    const running = await core.call('batch.start', {
      folder,
      preset: 'caption',
      outputs: ['txt'],
      maxTokens: 24,
    });
    expect(running.state).toBe('running');
    const startedAtJobStart = counted.started;
    const unloaded = nextEvent<EngineStatus>('engine.status', (st) => st.unloadedIdle === true);
    const { summary } = await finished;
    expect(summary?.described).toBe(24);
    expect(summary?.ms).toBeGreaterThan(idleMinutes * 60_000 * 4);
    // One process for the whole job: the idle time never ran out under it.
    expect(counted.started).toBe(startedAtJobStart);
    expect(counted.alive).toBe(1);
    await unloaded;
    await counted.exits[counted.started - 1];
    expect(counted.alive).toBe(0);
  }, 120_000);

  it('keeps the idle time as a setting, refusing negative ones', async () => {
    const dispatch = createDispatcher(core);
    expect(await dispatch('settings.update', { idleUnloadMinutes: -1 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    const saved = await core.call('settings.update', { idleUnloadMinutes: 0 });
    expect(saved.idleUnloadMinutes).toBe(0);
    expect((await core.call('settings.get', {})).idleUnloadMinutes).toBe(0);
  });
});
