import { describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { APP_INDEX_URL } from '../../src-main/url-schemes/app-url.js';
import { guardedCall, isTrustedSender, type SenderInfo } from '../../src-main/shell/ipc-guard.js';

const policy = { webContentsIds: new Set([7]) };
const good: SenderInfo = { webContentsId: 7, frameUrl: APP_INDEX_URL, isMainFrame: true };

describe('IPC sender check', () => {
  it('trusts only the main frame of our own window on our own page', () => {
    expect(isTrustedSender(good, policy)).toBe(true);
    expect(isTrustedSender({ ...good, webContentsId: 8 }, policy)).toBe(false);
    expect(isTrustedSender({ ...good, isMainFrame: false }, policy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: undefined }, policy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: 'https://evil.example/' }, policy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: 'file:///app/index.html' }, policy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: 'llava-desk://evil/index.html' }, policy)).toBe(
      false,
    );
  });

  it('trusts the dev server only when one is configured', () => {
    const dev = { ...good, frameUrl: 'http://localhost:5173/' };
    expect(isTrustedSender(dev, policy)).toBe(false);
    expect(isTrustedSender(dev, { ...policy, devServerUrl: 'http://localhost:5173' })).toBe(true);
  });
});

describe('guarded API call', () => {
  // The IPC handler's real path: the sender check, then the dispatcher both transports share,
  // over a core that records what reaches it.
  const calls: Array<[string, unknown]> = [];
  const dispatch = createDispatcher({
    call: async (method, params) => {
      calls.push([method, params]);
      return 'done' as never;
    },
  });

  it('reaches the core only with a trusted sender, a known method and valid params', async () => {
    calls.length = 0;
    const ok = await guardedCall(
      { method: 'chats.get', params: { id: 'c1' }, sender: good },
      policy,
      dispatch,
    );
    expect(ok).toEqual({ ok: true, value: 'done' });
    const send = { conversationId: 'c1', text: 'hi' };
    await guardedCall({ method: 'chats.send', params: send, sender: good }, policy, dispatch);
    // Defaults of the schema are applied before the core sees the params.
    expect(calls[1]).toEqual(['chats.send', { ...send, images: [] }]);

    const untrusted = await guardedCall(
      { method: 'chats.get', params: { id: 'c1' }, sender: { ...good, isMainFrame: false } },
      policy,
      dispatch,
    );
    expect(untrusted).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    const unknown = await guardedCall(
      { method: 'toString', params: {}, sender: good },
      policy,
      dispatch,
    );
    // The same refusal as web mode's (one validation step, one code).
    expect(unknown).toEqual({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: 'Unknown method "toString".' },
    });
    const invalid = await guardedCall(
      { method: 'images.add', params: { name: 'x', data: 'not bytes' }, sender: good },
      policy,
      dispatch,
    );
    expect(invalid).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    if (!invalid.ok) expect(invalid.error.message).toMatch(/^images\.add: data: /);
    expect(calls).toHaveLength(2);
  });

  it('turns a throwing core into an error envelope', async () => {
    const thrown = await guardedCall(
      { method: 'app.info', params: {}, sender: good },
      policy,
      async () => {
        throw new Error('boom');
      },
    );
    expect(thrown).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'boom' } });
  });
});
