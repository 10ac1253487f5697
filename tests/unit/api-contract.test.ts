import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  API_EVENTS,
  API_METHODS,
  EVENT_PAYLOADS,
  METHOD_PARAMS,
  METHOD_RESULTS,
  type EventName,
  type MethodName,
} from '../../src-main/api/contract.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { decodeWire, encodeWire } from '../../src-main/server/wire-codec.js';

describe('the API contract', () => {
  it('lists for a generic preload exactly the methods the core answers', async () => {
    // The preload and the WebSocket API forward only the names in API_METHODS; the core's
    // handlers are written separately. A method missing from either list is a call that fails.
    const dataDir = await mkdtemp(join(tmpdir(), 'llava-desk-contract-'));
    const core = await AppCore.open({ dataDir, mode: 'web', hfBaseUrl: 'http://127.0.0.1:9' });
    try {
      expect([...API_METHODS].sort()).toEqual(Object.keys(core.handlers).sort());
    } finally {
      await core.close();
      await rm(dataDir, { recursive: true, force: true });
    }
    expect(API_EVENTS).toEqual(expect.arrayContaining(['chats.token', 'chats.message']));
  });

  it('has the batch methods and events, with checked start params', () => {
    for (const m of [
      'batch.start',
      'batch.pause',
      'batch.resume',
      'batch.cancel',
      'batch.status',
    ]) {
      expect(API_METHODS).toContain(m);
    }
    expect(API_EVENTS).toEqual(expect.arrayContaining(['batch.progress', 'batch.item']));
    const start = METHOD_PARAMS['batch.start'];
    expect(start.safeParse({ folder: '/p', preset: 'caption', outputs: ['txt'] }).success).toBe(
      true,
    );
    expect(start.safeParse({ folder: '/p', preset: 'poem' }).success).toBe(false);
    expect(start.safeParse({ folder: '/p', outputs: [] }).success).toBe(false);
    expect(start.safeParse({ folder: '' }).success).toBe(false);
    // The XMP and catalogue options (issue 17).
    const full = {
      folder: '/p',
      preset: 'keywords',
      outputs: ['xmp'],
      xmpName: 'photo.xmp',
      embed: true,
      backup: false,
      keywords: {
        case: 'lower',
        max: 10,
        exclude: ['photo'],
        vocabulary: 'dog\n',
        hierarchy: 'a|b',
      },
    };
    expect(start.safeParse(full).success).toBe(true);
    expect(start.safeParse({ ...full, xmpName: 'photo.jpeg.xmp' }).success).toBe(false);
    expect(start.safeParse({ ...full, embed: 'yes' }).success).toBe(false);
    expect(start.safeParse({ ...full, keywords: { max: 0 } }).success).toBe(false);
    expect(start.safeParse({ ...full, keywords: { case: 'upper' } }).success).toBe(false);
    expect(start.safeParse({ ...full, keywords: { path: '/etc/passwd' } }).success).toBe(false);
  });

  it('validates params at the boundary', () => {
    expect(METHOD_PARAMS['chats.send'].safeParse({ conversationId: 'a', text: 'hi' }).success).toBe(
      true,
    );
    expect(
      METHOD_PARAMS['chats.send'].safeParse({ conversationId: '../x', text: 'hi' }).success,
    ).toBe(false);
    expect(
      METHOD_PARAMS['chats.send'].safeParse({ conversationId: 'a', text: 'hi', x: 1 }).success,
    ).toBe(false);
    expect(
      METHOD_PARAMS['settings.update'].safeParse({ threads: 'auto', temperature: 0.7 }).success,
    ).toBe(true);
    expect(METHOD_PARAMS['settings.update'].safeParse({ temperature: -1 }).success).toBe(false);
    expect(
      METHOD_PARAMS['images.add'].safeParse({ name: 'a', data: new Uint8Array(2) }).success,
    ).toBe(true);
    expect(METHOD_PARAMS['images.add'].safeParse({ name: 'a', data: 'AAAA' }).success).toBe(false);
  });

  it('dispatches: unknown methods and bad params never reach the core; errors are {code, message}', async () => {
    const calls: string[] = [];
    const dispatch = createDispatcher({
      call: async (method) => {
        calls.push(method);
        if (method === 'chats.get')
          throw Object.assign(new Error('gone'), { code: 'CHAT_NOT_FOUND' });
        return {} as never;
      },
    });
    expect(await dispatch('constructor', {})).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await dispatch('chats.get', { id: 1 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await dispatch('chats.get', { id: 'abc' })).toEqual({
      ok: false,
      error: { code: 'CHAT_NOT_FOUND', message: 'gone' },
    });
    expect(await dispatch('app.info', undefined)).toEqual({ ok: true, value: {} });
    expect(calls).toEqual(['chats.get', 'app.info']);
  });

  it('declares a result schema for every method', () => {
    expect(Object.keys(METHOD_RESULTS).sort()).toEqual([...API_METHODS].sort());
  });

  it("checks events' payloads, including the chat, engine and batch objects inside them", () => {
    const message = {
      id: 'm1',
      role: 'assistant',
      text: 'hi',
      images: [],
      createdAt: 1,
      status: 'complete',
    };
    const chatsMessage = EVENT_PAYLOADS['chats.message'];
    expect(chatsMessage.safeParse({ conversationId: 'c', message }).success).toBe(true);
    expect(chatsMessage.safeParse({ conversationId: 'c', message: {} }).success).toBe(false);
    expect(
      chatsMessage.safeParse({ conversationId: 'c', message: { ...message, status: 'done' } })
        .success,
    ).toBe(false);
    expect(EVENT_PAYLOADS['engine.status'].safeParse({ state: 'ready' }).success).toBe(true);
    expect(EVENT_PAYLOADS['engine.status'].safeParse({ state: 'warm' }).success).toBe(false);
    expect(
      EVENT_PAYLOADS['engine.status'].safeParse({
        state: 'error',
        error: { code: 'NOT_A_CODE', message: 'x' },
      }).success,
    ).toBe(false);
    expect(
      EVENT_PAYLOADS['batch.item'].safeParse({ jobId: 'j', item: { path: 'a.jpg' } }).success,
    ).toBe(false);
    expect(
      EVENT_PAYLOADS['batch.progress'].safeParse({ state: 'running', progress: {} }).success,
    ).toBe(false);
  });

  it('matches what the real core answers and sends, method by method', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'llava-desk-contract-'));
    const core = await AppCore.open({ dataDir, mode: 'web', hfBaseUrl: 'http://127.0.0.1:9' });
    const dispatch = createDispatcher(core);
    const events: Array<[EventName, unknown]> = [];
    const unsubscribe = core.subscribe((name, payload) => events.push([name, payload]));
    const checked: MethodName[] = [];
    const call = async (method: MethodName, params: unknown): Promise<unknown> => {
      const response = await dispatch(method, params);
      if (!response.ok)
        throw new Error(`${method}: ${response.error.code} ${response.error.message}`);
      const parsed = METHOD_RESULTS[method].safeParse(response.value);
      expect(parsed.error?.issues ?? [], method).toEqual([]);
      checked.push(method);
      return response.value;
    };
    try {
      await call('app.info', {});
      await call('settings.get', {});
      await call('settings.update', { temperature: 0.5 });
      const chat = (await call('chats.create', { title: 'Contract' })) as { id: string };
      await call('chats.rename', { id: chat.id, title: 'Renamed' });
      await call('chats.list', {});
      await call('chats.get', { id: chat.id });
      const png = await sharp({
        create: { width: 12, height: 8, channels: 3, background: { r: 200, g: 40, b: 10 } },
      })
        .png()
        .toBuffer();
      const added = (await call('images.add', { name: 'a.png', data: new Uint8Array(png) })) as {
        ref: { id: string };
      };
      await call('images.thumbnail', { id: added.ref.id });
      await call('models.list', {});
      await call('engine.status', {});
      await call('batch.status', {});
      await call('chats.stop', { conversationId: chat.id });
      await call('chats.delete', { id: chat.id });
      expect(checked).toHaveLength(14);
      expect(events.length).toBeGreaterThan(0);
      for (const [name, payload] of events) {
        const parsed = EVENT_PAYLOADS[name].safeParse(payload);
        expect(parsed.error?.issues ?? [], name).toEqual([]);
      }
    } finally {
      unsubscribe();
      await core.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('carries bytes through the wire codec and leaves other JSON alone', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const decoded = decodeWire(
      encodeWire({ a: bytes, b: Buffer.from([7]), c: { $bytes: 'x', d: 1 } }),
    ) as {
      a: Uint8Array;
      b: Uint8Array;
      c: unknown;
    };
    expect([...decoded.a]).toEqual([...bytes]);
    expect([...decoded.b]).toEqual([7]);
    expect(decoded.c).toEqual({ $bytes: 'x', d: 1 });
  });
});
