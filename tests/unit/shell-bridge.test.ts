import { describe, expect, it } from 'vitest';
import { API_EVENTS, API_METHODS } from '../../src-main/api/contract.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import {
  createBridge,
  type IpcListener,
  type IpcRendererLike,
} from '../../src-main/shell/bridge.js';
import {
  ASK_WINDOW_EVENTS,
  ASK_WINDOW_METHODS,
  bridgeArguments,
  rolesFor,
  eventChannel,
  invokeChannel,
  readBridgeArguments,
} from '../../src-main/shell/bridge-channels.js';

/** A stand-in for ipcRenderer: records invokes, delivers events to registered listeners. */
class FakeIpc implements IpcRendererLike {
  readonly invoked: Array<{ channel: string; args: unknown[] }> = [];
  readonly listeners = new Map<string, Set<IpcListener>>();
  answer: unknown = { ok: true, value: 42 };

  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    return this.answer;
  }

  on(channel: string, listener: IpcListener): void {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
  }

  removeListener(channel: string, listener: IpcListener): void {
    this.listeners.get(channel)?.delete(listener);
  }

  emit(channel: string, payload: unknown): void {
    const event = { sender: 'the ipcRenderer itself', ports: [] };
    for (const listener of this.listeners.get(channel) ?? []) listener(event, payload);
  }
}

const mainConfig = () => {
  const config = readBridgeArguments([
    'electron',
    ...bridgeArguments('main', API_METHODS, API_EVENTS),
  ]);
  if (!config) throw new Error('no config');
  return config;
};

describe('preload channel map', () => {
  it('carries every contract method and event to the preload through its arguments', () => {
    const config = mainConfig();
    expect(config.role).toBe('main');
    expect([...config.methods].sort()).toEqual([...API_METHODS].sort());
    expect([...config.events].sort()).toEqual([...API_EVENTS].sort());
  });

  it('gives each method and event its own namespaced channel', () => {
    const channels = new Set([...API_METHODS.map(invokeChannel), ...API_EVENTS.map(eventChannel)]);
    expect(channels.size).toBe(API_METHODS.length + API_EVENTS.length);
    for (const channel of channels) expect(channel).toMatch(/^llava-desk:(invoke|event):[a-z]/);
  });

  it('gives the ask window only what it needs, and only names of the contract', () => {
    for (const name of ASK_WINDOW_METHODS) expect(API_METHODS).toContain(name);
    for (const name of ASK_WINDOW_EVENTS) expect(API_EVENTS).toContain(name);
    expect(rolesFor(ASK_WINDOW_METHODS, 'chats.send')).toEqual(['main', 'ask']);
    expect(rolesFor(ASK_WINDOW_METHODS, 'models.delete')).toEqual(['main']);
    expect(rolesFor(ASK_WINDOW_EVENTS, 'models.progress')).toEqual(['main']);
  });

  it('exposes nothing to a window without (or with forged) arguments', () => {
    expect(readBridgeArguments(['electron', '--no-sandbox'])).toBeUndefined();
    expect(readBridgeArguments(['--llava-desk-role=admin'])).toBeUndefined();
    const odd = readBridgeArguments([
      '--llava-desk-role=ask',
      '--llava-desk-methods=chats.send,__proto__,a b',
    ]);
    expect([...(odd?.methods ?? [])]).toEqual(['chats.send']);
    expect(() => bridgeArguments('main', ['x=1'], [])).toThrow();
  });
});

describe('the exposed bridge', () => {
  it('has only invoke, on, platform and getPathForFile: no ipcRenderer', () => {
    const ipc = new FakeIpc();
    const bridge = createBridge(ipc, mainConfig(), 'linux', () => '/tmp/x.png');
    expect(Object.keys(bridge).sort()).toEqual(['getPathForFile', 'invoke', 'on', 'platform']);
    expect(Object.values(bridge)).not.toContain(ipc);
    expect(createBridge(ipc, mainConfig(), 'linux').getPathForFile).toBeUndefined();
  });

  it('forwards contract methods on their channel and refuses others without IPC', async () => {
    const ipc = new FakeIpc();
    const bridge = createBridge(ipc, mainConfig(), 'linux');
    expect(await bridge.invoke('chats.list', {})).toEqual({ ok: true, value: 42 });
    expect(ipc.invoked).toEqual([{ channel: 'llava-desk:invoke:chats.list', args: [{}] }]);
    const refused = await bridge.invoke('shell.openExternal', { url: 'file:///' });
    // Refused before any IPC, exactly as the dispatcher refuses an unknown method.
    const dispatched = await createDispatcher({ call: async () => ({}) as never })(
      'shell.openExternal',
      { url: 'file:///' },
    );
    expect(refused).toEqual(dispatched);
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(ipc.invoked).toHaveLength(1);
    ipc.answer = 'not an envelope';
    expect(await bridge.invoke('chats.list', {})).toMatchObject({ ok: false });
  });

  it('strips the IPC event object and lets listeners be removed', () => {
    const ipc = new FakeIpc();
    const bridge = createBridge(ipc, mainConfig(), 'linux');
    const received: unknown[][] = [];
    const off = bridge.on('chats.token', (...args: unknown[]) => received.push(args));
    ipc.emit(eventChannel('chats.token'), { text: 'hi' });
    expect(received).toEqual([[{ text: 'hi' }]]);
    off();
    off();
    ipc.emit(eventChannel('chats.token'), { text: 'again' });
    expect(received).toHaveLength(1);
    expect(ipc.listeners.get(eventChannel('chats.token'))?.size).toBe(0);
  });

  it('refuses unknown events and non-function listeners', () => {
    const bridge = createBridge(new FakeIpc(), mainConfig(), 'linux');
    expect(() => bridge.on('ipc.raw', () => undefined)).toThrow(/unknown event/);
    expect(() => bridge.on('chats.token', 'x' as unknown as () => void)).toThrow(/function/);
  });
});
