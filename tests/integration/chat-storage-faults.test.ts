import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import type { ApiConversation, ApiMessage, EventName } from '../../src-main/api/contract.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { RETRY_SAVE_EVERY_MS } from '../../src-main/app/unsaved-answers.js';
import { installPair } from '../support/data-folder.js';
import { FaultyFs, type FaultCode, type FaultStep } from '../support/faulty-fs.js';
import { makeTestImage } from '../support/tiny-images.js';

// Storage faults injected through the stores' fs layer (real errno errors over the real disk)
// while the tiny model streams a real answer.

let dir: string;
let dataDir: string;
let core: AppCore;
let png: Uint8Array;
const fs = new FaultyFs();
const events: { name: EventName; payload: unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-storage-faults-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 5 });
  dataDir = join(dir, 'data');
  await installPair(dataDir, pair, { threads: 1, contextSize: 4096, maxTokens: 40 });
  png = await readFile(
    (await makeTestImage(dir, 'c', { width: 48, height: 32 }, 'checker')).pngPath,
  );
  core = await AppCore.open({ dataDir, mode: 'web', hfBaseUrl: 'http://127.0.0.1:9', storeFs: fs });
  core.subscribe((name, payload) => events.push({ name, payload }));
});

afterEach(() => {
  fs.fault = undefined;
});

afterAll(async () => {
  await core?.close();
  await rm(dir, { recursive: true, force: true });
});

const dispatch = (method: string, params: unknown) => createDispatcher(core)(method, params);
const chatsDir = () => join(dataDir, 'chats');

/** The next `chats.message` event for this answer. */
function ended(answerId: string): Promise<ApiMessage> {
  return new Promise((resolve) => {
    const off = core.subscribe((name, payload) => {
      const message = (payload as { message?: ApiMessage }).message;
      if (name === 'chats.message' && message?.id === answerId) {
        off();
        resolve(message);
      }
    });
  });
}

/** Calls `then` at the first token of this answer (synchronously, from the token event). */
function atFirstToken(answerId: string, then: () => void): void {
  const off = core.subscribe((name, payload) => {
    if (name === 'chats.token' && (payload as { messageId: string }).messageId === answerId) {
      off();
      then();
    }
  });
}

function streamedText(answerId: string): string {
  return events
    .filter(
      (e) =>
        e.name === 'chats.token' && (e.payload as { messageId: string }).messageId === answerId,
    )
    .map((e) => (e.payload as { text: string }).text)
    .join('');
}

async function onDisk(conversationId: string, answerId: string): Promise<ApiMessage | undefined> {
  const file = JSON.parse(
    await readFile(join(chatsDir(), `${conversationId}.json`), 'utf8'),
  ) as ApiConversation;
  return file.messages.find((m) => m.id === answerId);
}

const expectedCode = (code: FaultCode) => (code === 'ENOSPC' ? 'DISK_FULL' : 'STORAGE_UNAVAILABLE');

describe('an answer whose save fails', () => {
  const cases: Array<[FaultCode, FaultStep]> = [];
  for (const code of ['EACCES', 'ENOSPC', 'EIO'] as const) {
    for (const step of ['write', 'rename', 'fsync'] as const) cases.push([code, step]);
  }

  it.each(cases)(
    '%s on %s: is kept in memory, shown failed with the reason, saved when the disk takes it',
    async (code, step) => {
      const chat = await core.call('chats.create', {});
      const sent = await core.call('chats.send', {
        conversationId: chat.id,
        text: 'Describe.',
        images: [],
      });
      const end = ended(sent.answer.id);
      atFirstToken(sent.answer.id, () => {
        fs.fault = { step, code, under: chatsDir() };
      });
      const shown = await end;
      expect(fs.failures).toBeGreaterThan(0);

      // The window is told, with a reason a user can act on, and nothing is lost.
      expect(shown.status).toBe('error');
      expect(shown.error?.code).toBe(expectedCode(code));
      expect(shown.error?.message).toMatch(/could not be saved/);
      expect(shown.error?.message).not.toContain(dataDir);
      expect(shown.error?.message).not.toContain(code);
      expect(shown.text.length).toBeGreaterThan(0);
      expect(shown.text).toBe(streamedText(sent.answer.id));
      expect((await core.call('chats.get', { id: chat.id })).messages.at(-1)).toEqual(shown);
      // Not on disk yet (the save failed), and the core still serves.
      expect((await onDisk(chat.id, sent.answer.id))?.text).not.toBe(shown.text);
      expect(await dispatch('app.info', {})).toMatchObject({ ok: true });

      // The disk takes writes again: the next write saves the kept answer first.
      fs.fault = undefined;
      const saved = ended(sent.answer.id);
      expect(
        await dispatch('chats.rename', { id: chat.id, title: 'after the fault' }),
      ).toMatchObject({ ok: true });
      const final = await saved;
      expect(final.status).toBe('complete');
      expect(final.text).toBe(shown.text);
      expect(await onDisk(chat.id, sent.answer.id)).toMatchObject({
        status: 'complete',
        text: shown.text,
      });
      expect((await core.call('chats.get', { id: chat.id })).messages.at(-1)?.status).toBe(
        'complete',
      );
      expect((await readdir(chatsDir())).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    },
  );

  it('is saved by the periodic retry when nothing else writes', async () => {
    const chat = await core.call('chats.create', {});
    const sent = await core.call('chats.send', {
      conversationId: chat.id,
      text: 'Describe.',
      images: [],
    });
    const end = ended(sent.answer.id);
    atFirstToken(sent.answer.id, () => {
      fs.fault = { step: 'open', code: 'ENOSPC', under: chatsDir() };
    });
    const shown = await end;
    expect(shown.error?.code).toBe('DISK_FULL');
    const started = Date.now();
    const saved = ended(sent.answer.id);
    fs.fault = undefined;
    expect((await saved).status).toBe('complete');
    expect(Date.now() - started).toBeLessThan(RETRY_SAVE_EVERY_MS * 3);
    expect((await onDisk(chat.id, sent.answer.id))?.text).toBe(shown.text);
  });

  it('Stop while the disk refuses: stop answers ok, the end event comes, the text is kept', async () => {
    await core.call('settings.update', { maxTokens: 4000 });
    try {
      const chat = await core.call('chats.create', {});
      const sent = await core.call('chats.send', {
        conversationId: chat.id,
        text: 'Go on.',
        images: [],
      });
      const firstToken = new Promise<void>((resolve) =>
        atFirstToken(sent.answer.id, () => {
          fs.fault = { step: 'any-write', code: 'EACCES', under: chatsDir() };
          resolve();
        }),
      );
      const end = ended(sent.answer.id);
      await firstToken;
      expect(await dispatch('chats.stop', { conversationId: chat.id })).toEqual({
        ok: true,
        value: { stopped: true },
      });
      const shown = await end;
      expect(shown.status).toBe('error');
      expect(shown.error?.code).toBe('STORAGE_UNAVAILABLE');
      expect(shown.text.length).toBeGreaterThan(0);

      fs.fault = undefined;
      const saved = ended(sent.answer.id);
      await core.call('chats.create', {});
      expect(await saved).toMatchObject({ status: 'stopped', text: shown.text });
    } finally {
      await core.call('settings.update', { maxTokens: 40 });
    }
  });
});

describe('a data folder that cannot be written', () => {
  it.each([
    ['EROFS', 'STORAGE_UNAVAILABLE'],
    ['EACCES', 'STORAGE_UNAVAILABLE'],
    ['ENOSPC', 'DISK_FULL'],
  ] as const)('%s: every write answers %s with an actionable message', async (code, typed) => {
    const chat = await core.call('chats.create', {});
    fs.fault = { step: 'any-write', code };
    const writes: Array<[string, unknown]> = [
      ['chats.create', {}],
      ['chats.rename', { id: chat.id, title: 'x' }],
      ['chats.delete', { id: chat.id }],
      ['chats.send', { conversationId: chat.id, text: 'hello' }],
      ['images.add', { name: 'c.png', data: png }],
      ['settings.update', { temperature: 0.5 }],
    ];
    for (const [method, params] of writes) {
      const answer = await dispatch(method, params);
      expect(answer, method).toMatchObject({ ok: false, error: { code: typed } });
      const message = (answer as { error: { message: string } }).error.message;
      expect(message, method).toMatch(/^Could not (save|delete) .+\. .*(Free some space|Check)/);
      expect(message, method).not.toContain(dataDir);
      expect(message, method).not.toContain(code);
    }
    // Reads still work, and nothing changed.
    fs.fault = undefined;
    expect((await core.call('chats.get', { id: chat.id })).title).toBe(chat.title);
    expect((await core.call('settings.get', {})).temperature).not.toBe(0.5);
  });
});
