import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import { nodeDownloadFs, type DownloadFs } from '../../src-main/models/download/download-fs.js';
import {
  createDownloadJob,
  type DownloadJobOptions,
} from '../../src-main/models/download/download-job.js';
import type { DownloadEvent } from '../../src-main/models/download/events.js';
import {
  sha256Hex,
  startFaultServer,
  testBytes,
  type FaultServer,
} from '../support/fault-server.js';

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttemptsWithoutProgress: 3 };
const MODEL = testBytes(600_000, 7);
const MMPROJ = testBytes(200_000, 9);

let server: FaultServer;
let dir: string;

beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-dl-'));
  server.requests.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let repoCounter = 0;
/** A fresh hub repository per test so queued faults never leak between tests. */
function hubPair(
  model: Parameters<FaultServer['addHubFile']>[2] = { body: MODEL, linkedSha256: sha256Hex(MODEL) },
  mmproj: Parameters<FaultServer['addHubFile']>[2] = {
    body: MMPROJ,
    linkedSha256: sha256Hex(MMPROJ),
  },
): { repo: string; modelUri: string; mmprojUri: string; modelPath: string } {
  const repo = `org/repo-${++repoCounter}`;
  return {
    repo,
    modelUri: server.addHubFile(repo, 'model.gguf', model),
    mmprojUri: server.addHubFile(repo, 'mmproj.gguf', mmproj),
    modelPath: `/hf/${repo}/resolve/main/model.gguf`,
  };
}

function job(
  uris: { modelUri: string; mmprojUri: string },
  extra: Partial<DownloadJobOptions> = {},
  events: DownloadEvent[] = [],
) {
  return createDownloadJob({
    dir,
    hfBaseUrl: server.hfBaseUrl,
    files: [
      { role: 'model', uri: uris.modelUri },
      { role: 'mmproj', uri: uris.mmprojUri },
    ],
    retry: FAST_RETRY,
    diskMarginBytes: 0,
    progressIntervalMs: 0,
    idleTimeoutMs: 5000,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlavaDeskError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('a pair download against a real local server', () => {
  it('downloads both files as one job, verified against the hub-reported sha256', async () => {
    const pair = hubPair();
    const events: DownloadEvent[] = [];
    const files = await job(pair, {}, events).start();
    expect(files.map((f) => f.role)).toEqual(['model', 'mmproj']);
    await expectFileBytes('model.gguf', MODEL);
    await expectFileBytes('mmproj.gguf', MMPROJ);
    expect(files[0]?.sha256).toBe(sha256Hex(MODEL));
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.part'))).toEqual([]);

    expect(events[0]?.type).toBe('start');
    expect(events.at(-1)?.type).toBe('done');
    const verifies = events.filter((e) => e.type === 'verify');
    expect(verifies.map((e) => e.type === 'verify' && e.sha256Source)).toEqual(['hub', 'hub']);
    const last = events.filter((e) => e.type === 'progress').at(-1);
    expect(last?.type === 'progress' && last.overall).toMatchObject({
      doneBytes: MODEL.length + MMPROJ.length,
      totalBytes: MODEL.length + MMPROJ.length,
    });
  });

  it('resumes byte-exactly with Range + If-Range after the connection is cut', async () => {
    const pair = hubPair();
    server.addFaults(pair.modelPath, [{ kind: 'cut', atByte: 250_000 }]);
    const events: DownloadEvent[] = [];
    await job(pair, {}, events).start();
    await expectFileBytes('model.gguf', MODEL);
    const ranged = server.requests.filter((r) => r.range !== undefined && r.status === 206);
    expect(ranged.length).toBe(1);
    const resumedAt = Number(/bytes=(\d+)-/.exec(ranged[0]?.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(250_000);
    expect(ranged[0]?.ifRange).toMatch(/^"/);
    expect(ranged[0]?.status).toBe(206);
    expect(events.some((e) => e.type === 'retry')).toBe(true);
  });

  it('reports 404 as MODEL_NOT_FOUND and 401/403 as MODEL_GATED', async () => {
    const missing = { modelUri: 'hf:org/nothing-here/model.gguf', mmprojUri: 'hf:org/x/y.gguf' };
    expect(await codeOf(job(missing).start())).toBe('MODEL_NOT_FOUND');

    const gated = hubPair({ body: MODEL, requireToken: 'secret' });
    expect(await codeOf(job(gated).start())).toBe('MODEL_GATED');

    const forbidden = hubPair({
      body: MODEL,
      linkedSha256: sha256Hex(MODEL),
      faults: [{ kind: 'status', status: 403, times: 100 }],
    });
    expect(await codeOf(job(forbidden).start())).toBe('MODEL_GATED');
  });

  it('sends the HF token to the hub and then downloads a gated file', async () => {
    const gated = hubPair({ body: MODEL, requireToken: 'secret' }, { body: MMPROJ });
    await job(gated, { token: 'secret' }).start();
    await expectFileBytes('model.gguf', MODEL);
    expect(server.requests[0]?.authorization).toBe('Bearer secret');
  });

  it('retries 500s and connection resets with backoff, then succeeds', async () => {
    const pair = hubPair(
      {
        body: MODEL,
        linkedSha256: sha256Hex(MODEL),
        faults: [
          { kind: 'status', status: 500 },
          { kind: 'status', status: 503 },
        ],
      },
      { body: MMPROJ, faults: [{ kind: 'reset' }] },
    );
    const events: DownloadEvent[] = [];
    await job(pair, {}, events).start();
    await expectFileBytes('model.gguf', MODEL);
    await expectFileBytes('mmproj.gguf', MMPROJ);
    expect(events.filter((e) => e.type === 'retry').length).toBe(3);
  });

  it('gives up with NETWORK_FAILED after a bounded number of failures', async () => {
    const pair = hubPair({ body: MODEL, faults: [{ kind: 'status', status: 500, times: 1000 }] });
    expect(await codeOf(job(pair).start())).toBe('NETWORK_FAILED');
    const attempts = server.requests.filter((r) => r.path === pair.modelPath).length;
    expect(attempts).toBe(FAST_RETRY.maxAttemptsWithoutProgress);
  });

  it('reports sane progress on a slow server and cancels, keeping or deleting the partial', async () => {
    const slow = { body: MODEL, slow: { chunkBytes: 16_384, delayMs: 15 } };
    const pair = hubPair(slow, { body: MMPROJ });
    const events: DownloadEvent[] = [];
    const running = job(pair, {}, events);
    const done = running.start();
    await waitFor(() => events.filter((e) => e.type === 'progress').length > 12);
    await running.cancel({ keepPartial: true });
    expect(await codeOf(done)).toBe('DOWNLOAD_CANCELLED');
    const partial = await stat(join(dir, 'model.gguf.part'));
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThan(MODEL.length);

    const progress = events.filter((e) => e.type === 'progress').at(-1);
    if (progress?.type !== 'progress') throw new Error('no progress event');
    expect(progress.file.bytesPerSecond).toBeGreaterThan(50_000);
    expect(progress.file.bytesPerSecond).toBeLessThan(50_000_000);
    expect(progress.file.etaSeconds).toBeGreaterThan(0);
    expect(progress.file.etaSeconds).toBeLessThan(60);

    const second = job(pair);
    const again = second.start();
    await waitFor(() => server.requests.filter((r) => r.range !== undefined).length > 0);
    await second.cancel({ keepPartial: false });
    expect(await codeOf(again)).toBe('DOWNLOAD_CANCELLED');
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes a file whose sha256 does not match and reports CHECKSUM_MISMATCH', async () => {
    const pair = hubPair({ body: MODEL });
    const wrong = 'ab'.repeat(32);
    const mismatch = createDownloadJob({
      dir,
      hfBaseUrl: server.hfBaseUrl,
      files: [{ role: 'model', uri: pair.modelUri, expectedSha256: wrong }],
      retry: FAST_RETRY,
      diskMarginBytes: 0,
    });
    expect(await codeOf(mismatch.start())).toBe('CHECKSUM_MISMATCH');
    expect(await readdir(dir)).toEqual([]);

    const lyingHub = hubPair({ body: MODEL, linkedSha256: 'cd'.repeat(32) });
    expect(await codeOf(job(lyingHub).start())).toBe('CHECKSUM_MISMATCH');
  });

  it('reports DOWNLOAD_TRUNCATED when the server announces more bytes than it has', async () => {
    const pair = hubPair({ body: MODEL, lieLengthBy: 10_000 });
    expect(await codeOf(job(pair).start())).toBe('DOWNLOAD_TRUNCATED');
    expect((await stat(join(dir, 'model.gguf.part'))).size).toBe(MODEL.length);
    await expect(stat(join(dir, 'model.gguf'))).rejects.toThrow();
  });

  it('stops with DISK_FULL on ENOSPC, keeps the partial, and a later job completes it', async () => {
    const pair = hubPair();
    const failing = enospcAfter(300_000);
    const first = job(pair, { fs: failing });
    expect(await codeOf(first.start())).toBe('DISK_FULL');
    const kept = (await stat(join(dir, 'model.gguf.part'))).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(300_000);

    server.requests.length = 0;
    await job(pair).start();
    await expectFileBytes('model.gguf', MODEL);
    const resumed = server.requests.find((r) => r.range !== undefined);
    expect(resumed?.range).toBe(`bytes=${kept}-`);
  });

  it('refuses to start without enough free space (INSUFFICIENT_DISK)', async () => {
    const pair = hubPair();
    const tiny: DownloadFs = { ...nodeDownloadFs, freeBytes: async () => 1000 };
    const small = createDownloadJob({
      dir,
      hfBaseUrl: server.hfBaseUrl,
      files: [
        { role: 'model', uri: pair.modelUri, expectedSize: MODEL.length },
        { role: 'mmproj', uri: pair.mmprojUri, expectedSize: MMPROJ.length },
      ],
      fs: tiny,
    });
    expect(await codeOf(small.start())).toBe('INSUFFICIENT_DISK');
    expect(server.requests).toEqual([]);
    // Sizes unknown up front: the check happens once the server names the size.
    expect(await codeOf(job(pair, { fs: tiny }).start())).toBe('INSUFFICIENT_DISK');
  });

  it('continues a partial left by an earlier instance (app restart)', async () => {
    const pair = hubPair({
      body: MODEL,
      linkedSha256: sha256Hex(MODEL),
      slow: { chunkBytes: 32_768, delayMs: 5 },
    });
    const events: DownloadEvent[] = [];
    const first = job(pair, {}, events);
    const firstRun = first.start();
    await waitFor(() => events.filter((e) => e.type === 'progress').length > 5);
    await first.cancel();
    await firstRun.catch(() => undefined);
    const partial = (await stat(join(dir, 'model.gguf.part'))).size;
    const sidecar = JSON.parse(await readFile(join(dir, 'model.gguf.download.json'), 'utf8'));
    expect(sidecar).toMatchObject({ totalBytes: MODEL.length, expectedSha256: sha256Hex(MODEL) });

    server.requests.length = 0;
    const resumedEvents: DownloadEvent[] = [];
    await job(pair, {}, resumedEvents).start();
    await expectFileBytes('model.gguf', MODEL);
    expect(resumedEvents).toContainEqual({ type: 'resume', role: 'model', fromByte: partial });
    expect(server.requests.find((r) => r.range)?.range).toBe(`bytes=${partial}-`);
  });

  it('starts over when the file changed on the server (If-Range) or Range is not supported', async () => {
    const changed = testBytes(MODEL.length, 99);
    const pair = hubPair({ body: MODEL, faults: [{ kind: 'cut', atByte: 100_000 }] });
    const first = job(pair, { retry: { ...FAST_RETRY, maxAttemptsWithoutProgress: 0 } });
    expect(await codeOf(first.start())).toBe('NETWORK_FAILED');
    server.addHubFile(pair.repo, 'model.gguf', { body: changed });
    const events: DownloadEvent[] = [];
    await job(pair, {}, events).start();
    await expectFileBytes('model.gguf', changed);
    expect(events.some((e) => e.type === 'restart')).toBe(true);

    await rm(join(dir, 'model.gguf'));
    await rm(join(dir, 'model.gguf.download.json'));
    const noRange = hubPair({
      body: MODEL,
      noRange: true,
      faults: [{ kind: 'cut', atByte: 50_000 }],
    });
    await job(noRange).start();
    await expectFileBytes('model.gguf', MODEL);
  });
});

async function expectFileBytes(name: string, expected: Buffer): Promise<void> {
  const actual = await readFile(join(dir, name));
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected), `${name} differs from the served bytes`).toBe(true);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The real file system, except that writes fail with ENOSPC once `limit` bytes were written. */
function enospcAfter(limit: number): DownloadFs {
  let written = 0;
  return {
    ...nodeDownloadFs,
    async openAppend(path) {
      const file = await nodeDownloadFs.openAppend(path);
      return {
        async write(chunk) {
          if (written + chunk.length > limit) {
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
              code: 'ENOSPC',
            });
          }
          written += chunk.length;
          await file.write(chunk);
        },
        close: () => file.close(),
      };
    },
  };
}
