import { describe, expect, it, vi } from 'vitest';
import { API_METHODS, type ApiResponse, type EventName } from '../../src-main/api/contract.js';
import { APP_INDEX_URL } from '../../src-main/url-schemes/app-url.js';
import { eventChannel, invokeChannel } from '../../src-main/shell/bridge-channels.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';

type Handler = (event: unknown, params: unknown) => Promise<ApiResponse>;

const fake = vi.hoisted(() => ({
  handlers: new Map<string, Handler>(),
  sent: [] as Array<{ id: number; channel: string; payload: unknown }>,
}));

// Unavoidable here: ipc.ts registers with Electron's ipcMain, which does not exist under Node.
vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, handler: Handler) => fake.handlers.set(channel, handler),
    removeHandler: (channel: string) => fake.handlers.delete(channel),
  },
  webContents: {
    fromId: (id: number) => ({
      isDestroyed: () => false,
      send: (channel: string, payload: unknown) => fake.sent.push({ id, channel, payload }),
    }),
  },
}));

const { registerApi } = await import('../../src-main/shell/ipc.js');
const { WindowRegistry } = await import('../../src-main/shell/window-registry.js');

function event(id: number, url = APP_INDEX_URL, mainFrame = true): unknown {
  const frame = { url, parent: null as unknown };
  return { sender: { id }, senderFrame: mainFrame ? frame : { url, parent: frame } };
}

describe('IPC registration (with a mock of the electron module)', () => {
  it('registers one validated handler per contract method and routes events by role', async () => {
    const windows = new WindowRegistry();
    windows.add(1, 'main');
    windows.add(2, 'ask');
    windows.add(3, 'overlay');
    const calls: string[] = [];
    let emit: ((name: EventName, payload: unknown) => void) | undefined;
    // The dispatcher the desktop app registers (it validates the params), over a recording core.
    const dispatch = createDispatcher({
      call: async (method) => {
        calls.push(method);
        return null as never;
      },
    });
    const undo = registerApi(
      {
        dispatch,
        subscribe: (listener) => {
          emit = listener;
          return () => undefined;
        },
      },
      windows,
      undefined,
    );
    expect([...fake.handlers.keys()].sort()).toEqual(API_METHODS.map(invokeChannel).sort());

    const list = fake.handlers.get(invokeChannel('chats.list'));
    const send = fake.handlers.get(invokeChannel('chats.send'));
    expect(await list?.(event(1), {})).toEqual({ ok: true, value: null });
    // The ask window may send a question but not list or delete chats; overlays may do nothing.
    expect(await list?.(event(2), {})).toMatchObject({ ok: false });
    expect(await send?.(event(2), { conversationId: 'c1', text: 'hi' })).toMatchObject({
      ok: true,
    });
    expect(await send?.(event(3), { conversationId: 'c1', text: 'hi' })).toMatchObject({
      ok: false,
    });
    // Wrong frame, wrong page, wrong params.
    expect(await list?.(event(1, APP_INDEX_URL, false), {})).toMatchObject({ ok: false });
    expect(await list?.(event(1, 'https://evil.example/'), {})).toMatchObject({ ok: false });
    expect(await send?.(event(1), { conversationId: 'c1' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(calls).toEqual(['chats.list', 'chats.send']);

    emit?.('chats.token', { conversationId: 'c1', messageId: 'm', text: 'x' });
    emit?.('models.changed', {});
    expect(fake.sent.map((s) => [s.id, s.channel])).toEqual([
      [1, eventChannel('chats.token')],
      [2, eventChannel('chats.token')],
      [1, eventChannel('models.changed')],
    ]);
    undo();
    expect(fake.handlers.size).toBe(0);
  });
});
