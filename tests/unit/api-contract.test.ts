import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_EVENTS, API_METHODS, METHOD_PARAMS } from '../../src-main/api/contract.js';
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
