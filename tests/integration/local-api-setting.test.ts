import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { apiBackendOf } from '../../src-main/server/app-api-backend.js';
import { LocalApiServer } from '../../src-main/server/local-api-server.js';
import { DEFAULT_SETTINGS } from '../../src-main/shared/settings.js';
import { installPair } from '../support/data-folder.js';
import { FaultyFs } from '../support/faulty-fs.js';

// The desktop's "Local API server" setting as the Electron main process wires it (the same
// AppCore option and server class; only the Electron window is left out): a real core on the
// tiny pair, settings changed through the validated dispatcher, the real clients.

let dir: string;
let core: AppCore;
let localApi: LocalApiServer;
let dispatch: ReturnType<typeof createDispatcher>;
/** The stores' disk: a test makes the settings file unwritable (a full disk). */
const disk = new FaultyFs();

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-local-api-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 3 });
  const dataDir = join(dir, 'data');
  await installPair(dataDir, pair, { threads: 1, contextSize: 2048, maxTokens: 4 });
  core = await AppCore.open({
    dataDir,
    mode: 'electron',
    hfBaseUrl: 'http://127.0.0.1:9',
    applySettings: async (next) => localApi.apply(next),
    storeFs: disk,
  });
  localApi = new LocalApiServer(apiBackendOf(core));
  await localApi.apply(await core.call('settings.get', {}));
  dispatch = createDispatcher(core);
});

afterAll(async () => {
  await localApi?.close();
  await core?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the Local API server setting', () => {
  it('is off by default', async () => {
    expect(DEFAULT_SETTINGS.localApi).toBe(false);
    expect((await core.call('settings.get', {})).localApi).toBe(false);
    expect(localApi.origin).toBeUndefined();
  });

  it('serves both dialects on 127.0.0.1 when turned on, moves with the port, stops when off', async () => {
    const port = await freePort();
    const on = await dispatch('settings.update', { localApi: true, localApiPort: port });
    expect(on.ok).toBe(true);
    expect(localApi.origin).toBe(`http://127.0.0.1:${port}`);

    const openai = new OpenAI({ baseURL: `${localApi.origin}/v1`, apiKey: 'x', maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
    const ollama = new Ollama({ host: localApi.origin });
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(['tiny']);
    // The same Host check as the web host: a rebinding name is refused.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/v1/models', headers: { Host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);
    const page = await fetch(`${localApi.origin}/api/tags`, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(page.status).toBe(403);

    const moved = await freePort();
    expect((await dispatch('settings.update', { localApiPort: moved })).ok).toBe(true);
    expect(localApi.origin).toBe(`http://127.0.0.1:${moved}`);
    await expect(fetch(`http://127.0.0.1:${port}/v1/models`)).rejects.toThrow();

    expect((await dispatch('settings.update', { localApi: false })).ok).toBe(true);
    expect(localApi.origin).toBeUndefined();
    await expect(fetch(`http://127.0.0.1:${moved}/v1/models`)).rejects.toThrow();
  });

  it('refuses a port another program holds, saving nothing', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const refused = await dispatch('settings.update', { localApi: true, localApiPort: taken });
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error.message).toMatch(/another program uses it/);
      expect((await core.call('settings.get', {})).localApi).toBe(false);
      const saved = JSON.parse(await readFile(join(dir, 'data', 'settings.json'), 'utf8')) as {
        settings: { localApi?: boolean };
      };
      expect(saved.settings.localApi).not.toBe(true);
      expect(localApi.origin).toBeUndefined();
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('turns the server off again when the setting cannot be saved (full disk)', async () => {
    const port = await freePort();
    disk.fault = { step: 'any-write', code: 'ENOSPC', under: join(dir, 'data', 'settings') };
    try {
      const refused = await dispatch('settings.update', { localApi: true, localApiPort: port });
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error.code).toBe('DISK_FULL');
    } finally {
      disk.fault = undefined;
    }
    expect(disk.failures).toBeGreaterThan(0);
    expect(localApi.origin).toBeUndefined();
    await expect(fetch(`http://127.0.0.1:${port}/v1/models`)).rejects.toThrow();
  });

  it('refuses ports below 1024 through the contract', async () => {
    const refused = await dispatch('settings.update', { localApi: true, localApiPort: 80 });
    expect(refused.ok).toBe(false);
  });
});
