import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair } from '../../scripts/test-model/llava-pair.js';
import type { EngineStatus, WireServerMessage } from '../../src-main/api/contract.js';
import { AppCore } from '../../src-main/app/app-core.js';
import { createDispatcher } from '../../src-main/app/dispatch.js';
import { openAttachPoint } from '../../src-main/server/api-listener.js';
import { discoveryPath } from '../../src-main/server/discovery.js';
import { installPair } from '../support/data-folder.js';
import { ApiSocket, startServe, type ServeProcess } from '../support/serve-process.js';
import { makeTestImage } from '../support/tiny-images.js';

// `llava-desk ask` attaches to a running `llava-desk serve` of its data folder (found through the
// discovery file) and is answered by the server's loaded model; a stale discovery file is
// removed; --standalone loads a private engine. Real processes: serve and the CLI from source.

const runner = fileURLToPath(new URL('../fixtures/batch-cli-runner.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
let dataDir: string;
let imagePath: string;
let serve: ServeProcess | undefined;
let api: ApiSocket | undefined;

interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

function cli(...args: string[]): Promise<CliRun> {
  return cliCommand('ask', ...args);
}

function cliCommand(command: string, ...args: string[]): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', runner, command, '--data-dir', dataDir, ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}

const question = (...extra: string[]): string[] => [
  '--image',
  imagePath,
  '--prompt',
  'What is this?',
  '--max-tokens',
  '8',
  '--verbose',
  ...extra,
];

const statusStates = (socket: ApiSocket, from: number): string[] =>
  socket.received
    .slice(from)
    .filter(
      (m): m is Extract<WireServerMessage, { type: 'event' }> =>
        m.type === 'event' && m.name === 'engine.status',
    )
    .map((m) => (m.payload as EngineStatus).state);

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-cli-attach-'));
  const pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 13 });
  dataDir = join(dir, 'data');
  await installPair(dataDir, pair, { threads: 1, contextSize: 1024, maxTokens: 8 });
  imagePath = (await makeTestImage(dir, 'checker', { width: 64, height: 40 }, 'checker')).pngPath;
}, 120_000);

afterAll(async () => {
  api?.close();
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

let attachedText = '';

describe('llava-desk ask attached to llava-desk serve', () => {
  it('serve writes a discovery file for its user only', async () => {
    serve = await startServe(dataDir);
    const file = discoveryPath(dataDir);
    const info = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({ pid: serve.pid, port: serve.port, host: '127.0.0.1' });
    expect(info['token']).toBe(serve.token);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  }, 90_000);

  it('answers through the server: its engine loads the model, the CLI loads none', async () => {
    if (!serve) throw new Error('serve did not start');
    api = await ApiSocket.open(serve);
    expect((await api.value<EngineStatus>('engine.status')).state).toBe('idle');
    const from = api.received.length;

    const run = await cli(...question('--json'));
    expect(run.code, run.err).toBe(0);
    expect(run.err).toContain(
      `attached to llava-desk at 127.0.0.1:${serve.port} (pid ${serve.pid})`,
    );
    const result = JSON.parse(run.out) as { text: string; tokens: number[] };
    expect(result.text.length).toBeGreaterThan(0);
    attachedText = result.text;
    // The server's engine loaded the model for this question.
    expect(statusStates(api, from)).toEqual(['loading', 'ready']);

    // Again, streaming: the same answer, and no load anywhere (the server's model stays loaded).
    const again = api.received.length;
    const streamed = await cli(...question());
    expect(streamed.code, streamed.err).toBe(0);
    expect(streamed.err).toContain('attached to llava-desk');
    expect(streamed.out).toBe(`${attachedText}\n`);
    expect(statusStates(api, again)).toEqual([]);

    // The same question once more: the prompt the earlier ones left in the engine is reused,
    // image included, so only its last tokens are evaluated.
    const repeated = await cli(...question('--json'));
    const stats = (
      JSON.parse(repeated.out) as {
        stats: { reusedTokens: number; promptTokens: number; imageTokens: number };
      }
    ).stats;
    expect(stats.reusedTokens).toBeGreaterThan(stats.imageTokens);
    expect(stats.promptTokens).toBeLessThan(stats.reusedTokens);
  }, 120_000);

  it('gives the same typed errors and exit codes as a private engine', async () => {
    const missing = join(dir, 'nope.png');
    const attached = await cli('--image', missing, '--json', '--verbose');
    const alone = await cli('--image', missing, '--json', '--standalone');
    expect(attached.err).toContain('attached to llava-desk');
    expect(attached.code).not.toBe(0);
    expect(attached.code).toBe(alone.code);
    expect(JSON.parse(attached.out)).toEqual(JSON.parse(alone.out));
  }, 120_000);

  it('runs alone with --standalone, with the same answer', async () => {
    if (!api) throw new Error('no API socket');
    const from = api.received.length;
    const run = await cli(...question('--json', '--standalone'));
    expect(run.code, run.err).toBe(0);
    expect(run.err).not.toContain('attached');
    expect((JSON.parse(run.out) as { text: string }).text).toBe(attachedText);
    // The server did nothing for it.
    expect(api.received.slice(from)).toEqual([]);
  }, 120_000);

  it("describes a folder through the server: the job is the app's Batch job", async () => {
    if (!api || !serve) throw new Error('serve did not start');
    const folder = join(dir, 'photos');
    await mkdir(folder);
    for (const [i, pattern] of (['gradient', 'stripes', 'dark'] as const).entries()) {
      await makeTestImage(folder, `p${i}`, { width: 40 + i * 8, height: 40 }, pattern);
    }
    const describe = (...extra: string[]): Promise<CliRun> =>
      cliCommand('describe', folder, '--out', 'txt', '--max-tokens', '6', '--verbose', ...extra);

    const attached = await describe();
    expect(attached.code, attached.err).toBe(0);
    expect(attached.err).toContain(`attached to llava-desk at 127.0.0.1:${serve.port}`);
    expect(attached.out).toContain('3 image(s) in');
    for (const name of ['p0.png', 'p1.png', 'p2.png']) {
      expect(attached.out).toContain(`described ${name}`);
    }
    expect(attached.err).toMatch(/3 described, 0 skipped, 0 failed of 3/);
    // The app's Batch view shows it: the server's batch status is this job, finished.
    const status = await api.value<{ state: string; folder?: string }>('batch.status');
    expect(status).toMatchObject({ state: 'finished', folder });
    const sidecars = async (): Promise<string[]> => {
      const names = (await readdir(folder)).filter((n) => n.endsWith('.txt')).sort();
      return Promise.all(names.map((n) => readFile(join(folder, n), 'utf8')));
    };
    const viaServer = await sidecars();
    expect(viaServer).toHaveLength(3);

    // The same job alone writes the same descriptions.
    const alone = await describe('--standalone', '--overwrite');
    expect(alone.code, alone.err).toBe(0);
    expect(alone.err).not.toContain('attached');
    expect(await sidecars()).toEqual(viaServer);
  }, 180_000);

  it('removes the discovery file when serve stops', async () => {
    api?.close();
    api = undefined;
    await serve?.stop();
    serve = undefined;
    expect(existsSync(discoveryPath(dataDir))).toBe(false);
  }, 60_000);

  it('ignores and removes a stale discovery file (dead pid, or nothing listening)', async () => {
    const file = discoveryPath(dataDir);
    const stale = async (pid: number): Promise<void> => {
      const body = { version: 1, pid, host: '127.0.0.1', port: await freePort() };
      await writeFile(file, JSON.stringify({ ...body, token: 'x'.repeat(32), startedAt: 1 }), {
        mode: 0o600,
      });
    };

    await stale(await deadPid());
    const dead = await cli(...question('--json'));
    expect(dead.code, dead.err).toBe(0);
    expect(dead.err).toMatch(/removed a stale discovery file \(process \d+ is not running\)/);
    expect(dead.err).not.toContain('attached');
    expect((JSON.parse(dead.out) as { text: string }).text).toBe(attachedText);
    expect(existsSync(file)).toBe(false);

    // A live pid (this test's) but a port that refuses connections.
    await stale(process.pid);
    const refused = await cli(...question('--json'));
    expect(refused.code, refused.err).toBe(0);
    expect(refused.err).toMatch(/removed a stale discovery file \(nothing accepts connections/);
    expect(existsSync(file)).toBe(false);
  }, 120_000);
});

// The desktop app opens the same attach point from its main process (the Electron main process
// stood in for by Node here: there is no Electron binary; the shell only calls openAttachPoint).
describe('llava-desk ask attached to the desktop app’s API listener', () => {
  it('answers through it, serves no pages, and the file goes when it closes', async () => {
    const core = await AppCore.open({ dataDir, mode: 'electron', hfBaseUrl: 'http://127.0.0.1:9' });
    const point = await openAttachPoint(dataDir, {
      dispatch: createDispatcher(core),
      subscribe: (listener) => core.subscribe(listener),
    });
    try {
      const { port } = point.listener;
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(404);
      const run = await cli(...question('--json'));
      expect(run.code, run.err).toBe(0);
      expect(run.err).toContain(`attached to llava-desk at 127.0.0.1:${port} (pid ${process.pid})`);
      expect((JSON.parse(run.out) as { text: string }).text).toBe(attachedText);
      await expect(core.call('engine.status', {})).resolves.toMatchObject({ state: 'ready' });
    } finally {
      await point.close();
      await core.close();
    }
    expect(existsSync(discoveryPath(dataDir))).toBe(false);
  }, 120_000);
});
