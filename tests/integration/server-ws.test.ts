import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WireServerMessage } from '../../src-main/api/contract.js';
import { WS_PATH, WS_SUBPROTOCOL } from '../../src-main/shared/web-socket.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { decodeWire, encodeWire } from '../../src-main/server/wire-codec.js';
import { startWebHost, type WebHost } from '../../src-main/server/web-host.js';

let dir: string;
let core: AppCore;
let host: WebHost;
let origin: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-server-ws-'));
  await mkdir(join(dir, 'renderer'));
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
  core = await AppCore.open({
    dataDir: join(dir, 'data'),
    mode: 'web',
    hfBaseUrl: 'http://127.0.0.1:9',
  });
  host = await startWebHost({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    rendererDir: join(dir, 'renderer'),
    api: { dispatch: createDispatcher(core), subscribe: (l) => core.subscribe(l) },
  });
  origin = `http://127.0.0.1:${host.port}`;
});

afterAll(async () => {
  await host?.close();
  await core?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Opens a socket; resolves with it when open, or with the HTTP status that refused it. */
function connect(options: {
  token?: string;
  origin?: string;
  host?: string;
}): Promise<WebSocket | number> {
  const protocols = [
    WS_SUBPROTOCOL,
    ...(options.token !== undefined ? [`token.${options.token}`] : []),
  ];
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}${WS_PATH}`, protocols, {
    ...(options.origin !== undefined ? { origin: options.origin } : {}),
    ...(options.host !== undefined ? { headers: { host: options.host } } : {}),
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

function call(
  ws: WebSocket,
  id: number,
  method: string,
  params: unknown,
): Promise<WireServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = decodeWire(data.toString()) as WireServerMessage;
      if (message.type === 'result' && message.id === id) {
        ws.off('message', onMessage);
        resolve(message);
      }
    };
    ws.on('message', onMessage);
    ws.send(encodeWire({ type: 'call', id, method, params }));
  });
}

describe('web mode WebSocket', () => {
  it('refuses a connection without the token, with a wrong one, from another origin or host', async () => {
    expect(await connect({ origin })).toBe(401);
    expect(await connect({ origin, token: 'x'.repeat(32) })).toBe(401);
    expect(await connect({ origin: 'http://evil.example', token: host.token })).toBe(403);
    expect(await connect({ token: host.token })).toBe(403);
    expect(
      await connect({
        origin: `http://attacker.example:${host.port}`,
        host: `attacker.example:${host.port}`,
        token: host.token,
      }),
    ).toBe(421);
  });

  it('serves the contract to an authorised page: calls, validation errors, events', async () => {
    const ws = await connect({ origin, token: host.token });
    expect(ws).toBeInstanceOf(WebSocket);
    const socket = ws as WebSocket;
    expect(socket.protocol).toBe(WS_SUBPROTOCOL);
    const info = await call(socket, 1, 'app.info', {});
    expect(info).toMatchObject({ ok: true, value: { mode: 'web' } });
    const bad = await call(socket, 2, 'chats.rename', { id: 'nope', title: '' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const missing = await call(socket, 3, 'chats.get', { id: 'nope' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'CHAT_NOT_FOUND' } });

    const event = new Promise<WireServerMessage>((resolve) => {
      socket.on('message', (data) => {
        const message = decodeWire(data.toString()) as WireServerMessage;
        if (message.type === 'event') resolve(message);
      });
    });
    await call(socket, 4, 'chats.create', {});
    expect(await event).toMatchObject({ type: 'event', name: 'chats.changed' });

    // Bytes survive the trip (base64-tagged in JSON) and a bad image is a typed error.
    const image = await call(socket, 5, 'images.add', {
      name: 'junk.png',
      data: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]),
    });
    expect(image).toMatchObject({ ok: false });
    expect(['IMAGE_CORRUPT', 'IMAGE_UNSUPPORTED']).toContain(
      (image as { error: { code: string } }).error.code,
    );
    socket.close();
  });
});
