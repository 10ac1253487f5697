import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import type { ApiMessage, EventName } from '../../src-main/api/contract.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { installPair } from '../support/data-folder.js';
import { makeTestImage } from '../support/tiny-images.js';

let dir: string;
let core: AppCore;
let pngBytes: Uint8Array;
let otherPng: Uint8Array;
const events: { name: EventName; payload: unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-app-core-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 5 });
  const dataDir = join(dir, 'data');
  await installPair(dataDir, pair, { threads: 1, contextSize: 2048, maxTokens: 24 });
  pngBytes = await readFile(
    (await makeTestImage(dir, 'c', { width: 64, height: 40 }, 'checker')).pngPath,
  );
  otherPng = await readFile(
    (await makeTestImage(dir, 'g', { width: 40, height: 64 }, 'gradient')).pngPath,
  );
  core = await AppCore.open({ dataDir, mode: 'web', hfBaseUrl: 'http://127.0.0.1:9' });
  core.subscribe((name, payload) => events.push({ name, payload }));
});

afterAll(async () => {
  await core?.close();
  await rm(dir, { recursive: true, force: true });
});

function answerEnded(conversationId: string, messageId: string): Promise<ApiMessage> {
  return new Promise((resolve) => {
    const off = core.subscribe((name, payload) => {
      const p = payload as { conversationId: string; message: ApiMessage };
      if (
        name === 'chats.message' &&
        p.conversationId === conversationId &&
        p.message.id === messageId
      ) {
        off();
        resolve(p.message);
      }
    });
  });
}

describe('the app core on the tiny model', () => {
  const dispatch = (method: string, params: unknown) => createDispatcher(core)(method, params);

  it('refuses unknown methods and bad params at the boundary', async () => {
    expect(await dispatch('chats.nope', {})).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await dispatch('chats.get', { id: '../etc' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await dispatch('settings.update', { threads: -1 })).toMatchObject({ ok: false });
  });

  it('knows the installed model and its status', async () => {
    const models = await core.call('models.list', {});
    expect(models.installed.map((m) => m.id)).toEqual(['tiny']);
    expect(models.activeModelId).toBe('tiny');
    expect((await core.call('engine.status', {})).state).toBe('idle');
  });

  it('shows the load plan of an installed model before loading it', async () => {
    const [model] = (await core.call('models.list', {})).installed;
    if (!model) throw new Error('no installed model');
    const plan = await core.call('models.plan', { id: model.id });
    expect(plan.fits).toBe(true);
    expect(plan.problems).toEqual([]);
    expect(plan.totalLayers).toBeGreaterThan(0);
    // 'auto' sizes the GPU share for this machine: any share of the layers, none without a GPU.
    expect(plan.gpuLayers).toBeGreaterThanOrEqual(0);
    expect(plan.gpuLayers).toBeLessThanOrEqual(plan.totalLayers);
    // What the settings ask for is what the plan holds, on any machine.
    const before = (await core.call('settings.get', {})).gpuLayers;
    await core.call('settings.update', { gpuLayers: 0 });
    try {
      const cpuOnly = await core.call('models.plan', { id: model.id });
      expect(cpuOnly.gpuLayers).toBe(0);
      expect(cpuOnly.fits).toBe(true);
    } finally {
      await core.call('settings.update', { gpuLayers: before });
    }
    expect(plan.contextSize).toBeGreaterThan(0);
    expect(plan.expectedRamBytes).toBeGreaterThan(0);
    expect(await dispatch('models.plan', { id: 'not-installed' })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_NOT_INSTALLED' },
    });
  });

  it('stores an image, answers with streaming, follows up, regenerates and edits', async () => {
    const added = await core.call('images.add', { name: 'checker.png', data: pngBytes });
    expect(added.ref).toMatchObject({ width: 64, height: 40, mime: 'image/png' });
    expect(added.tokens.standard).toBeGreaterThan(0);
    expect(added.tokens.high).toBeGreaterThanOrEqual(added.tokens.standard);
    const thumb = await core.call('images.thumbnail', { id: added.ref.id });
    expect(thumb.data.byteLength).toBeGreaterThan(0);

    const chat = await core.call('chats.create', {});
    const sent = await core.call('chats.send', {
      conversationId: chat.id,
      text: 'What is this?',
      images: [added.ref.id],
    });
    expect(sent.answer.status).toBe('streaming');
    const first = await answerEnded(chat.id, sent.answer.id);
    expect(first.status).toBe('complete');
    expect(first.text.length).toBeGreaterThan(0);
    expect(first.stats?.tokensPerSecond).toBeGreaterThan(0);
    const tokens = events.filter(
      (e) =>
        e.name === 'chats.token' &&
        (e.payload as { messageId: string }).messageId === sent.answer.id,
    );
    expect(tokens.map((e) => (e.payload as { text: string }).text).join('')).toBe(first.text);

    const stored = await core.call('chats.get', { id: chat.id });
    expect(stored.title).toBe('What is this?');
    expect(stored.messages.map((m) => m.status)).toEqual(['complete', 'complete']);

    const second = await core.call('images.add', { name: 'gradient.png', data: otherPng });
    const follow = await core.call('chats.send', {
      conversationId: chat.id,
      text: 'And these two?',
      images: [added.ref.id, second.ref.id],
    });
    expect((await answerEnded(chat.id, follow.answer.id)).status).toBe('complete');

    const regen = await core.call('chats.regenerate', { conversationId: chat.id });
    expect((await answerEnded(chat.id, regen.answer.id)).status).toBe('complete');
    expect((await core.call('chats.get', { id: chat.id })).messages).toHaveLength(4);

    const edited = await core.call('chats.edit', {
      conversationId: chat.id,
      messageId: stored.messages[0]?.id ?? '',
      text: 'Describe it.',
    });
    expect(edited.user.images.map((i) => i.id)).toEqual([added.ref.id]);
    await answerEnded(chat.id, edited.answer.id);
    const after = await core.call('chats.get', { id: chat.id });
    expect(after.messages.map((m) => m.text.slice(0, 12))[0]).toBe('Describe it.');
    expect(after.messages).toHaveLength(2);
  });

  it('keeps the partial text of a stopped answer, marked stopped', async () => {
    await core.call('settings.update', { maxTokens: 4000 });
    const chat = await core.call('chats.create', {});
    const sent = await core.call('chats.send', {
      conversationId: chat.id,
      text: 'Talk.',
      images: [],
    });
    const ended = answerEnded(chat.id, sent.answer.id);
    await new Promise<void>((resolve) => {
      const off = core.subscribe((name) => {
        if (name === 'chats.token') {
          off();
          resolve();
        }
      });
    });
    expect(await core.call('chats.stop', { conversationId: chat.id })).toEqual({ stopped: true });
    const message = await ended;
    expect(message.status).toBe('stopped');
    const stored = (await core.call('chats.get', { id: chat.id })).messages[1];
    expect(stored?.status).toBe('stopped');
    expect(stored?.text).toBe(message.text);
    await core.call('settings.update', { maxTokens: 24 });
  });

  it('refuses a corrupt image with a typed error and keeps working', async () => {
    const broken = await dispatch('images.add', {
      name: 'broken.png',
      data: pngBytes.slice(0, 60),
    });
    expect(broken).toMatchObject({ ok: false });
    expect(['IMAGE_CORRUPT', 'IMAGE_UNSUPPORTED']).toContain(
      (broken as { error: { code: string } }).error.code,
    );
    expect((await dispatch('chats.list', {})).ok).toBe(true);
  });
});

describe('dialog.pickFolder', () => {
  it('says in app.info that web mode has no chooser, and answers NOT_IMPLEMENTED', async () => {
    const dispatch = createDispatcher(core);
    expect(await dispatch('app.info', {})).toMatchObject({
      ok: true,
      value: { mode: 'web', canPickFolder: false },
    });
    expect(await dispatch('dialog.pickFolder', {})).toMatchObject({
      ok: false,
      error: { code: 'NOT_IMPLEMENTED' },
    });
  });

  it('returns the desktop chooser’s folder, or null when cancelled (the Electron dialog stood in for: no Electron binary here)', async () => {
    const answers = [join(dir, 'photos'), undefined];
    const titles: string[] = [];
    const desktop = await AppCore.open({
      dataDir: join(dir, 'desktop-data'),
      mode: 'electron',
      hfBaseUrl: 'http://127.0.0.1:9',
      pickFolder: async (title) => {
        titles.push(title);
        return answers.shift();
      },
    });
    try {
      const dispatch = createDispatcher(desktop);
      expect(await dispatch('app.info', {})).toMatchObject({ value: { canPickFolder: true } });
      expect(await dispatch('dialog.pickFolder', { title: 'Folder to describe' })).toEqual({
        ok: true,
        value: { path: join(dir, 'photos') },
      });
      expect(await dispatch('dialog.pickFolder', {})).toEqual({ ok: true, value: { path: null } });
      expect(titles).toEqual(['Folder to describe', 'Choose a folder']);
    } finally {
      await desktop.close();
    }
  });
});
