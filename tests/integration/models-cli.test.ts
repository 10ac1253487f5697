import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { sha256Hex, startFaultServer, type FaultServer } from '../support/fault-server.js';
import { runCli } from '../support/run-cli.js';

let root: string;
let pair: LlavaPairResult;
let server: FaultServer;
let modelUri: string;
let mmprojUri: string;

const run = (args: string[], isTty = false) => runCli(args, { isTty });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llava-desk-cli-'));
  pair = await makeLlavaPair({ outDir: join(root, 'src'), seed: 8 });
  server = await startFaultServer();
  const model = await readFile(pair.modelPath);
  const mmproj = await readFile(pair.mmprojPath);
  modelUri = server.addHubFile('org/tiny', 'tiny-llava.gguf', {
    body: model,
    linkedSha256: sha256Hex(model),
  });
  mmprojUri = server.addHubFile('org/tiny', 'mmproj.gguf', {
    body: mmproj,
    linkedSha256: sha256Hex(mmproj),
  });
  process.env.LLAVA_DESK_RETRY_BASE_MS = '5';
});
afterAll(async () => {
  delete process.env.LLAVA_DESK_RETRY_BASE_MS;
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('llava-desk models', () => {
  it('pulls a pair with JSON lines, lists it and removes it (exit 0)', async () => {
    const dataDir = join(root, 'data1');
    const base = ['--base-url', server.hfBaseUrl, '--data-dir', dataDir];
    const pulled = await run([
      'models',
      'pull',
      modelUri,
      '--mmproj',
      mmprojUri,
      '--json',
      ...base,
    ]);
    expect(pulled.code, pulled.err).toBe(0);
    const lines = pulled.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]?.type).toBe('start');
    expect(lines.map((l) => l.type)).toContain('progress');
    expect(lines.at(-1)).toMatchObject({
      type: 'installed',
      id: 'tiny-llava',
      alreadyInstalled: false,
    });

    const again = await run(['models', 'pull', modelUri, '--mmproj', mmprojUri, ...base]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already installed');

    const listed = await run(['models', 'list', '--json', '--data-dir', dataDir]);
    const listing = JSON.parse(listed.out) as { installed: { id: string; sizeBytes: number }[] };
    expect(listing.installed).toEqual([
      expect.objectContaining({ id: 'tiny-llava', sizeBytes: pair.llm.bytes + pair.mmproj.bytes }),
    ]);
    expect((await run(['models', 'rm', 'tiny-llava', '--data-dir', dataDir])).code).toBe(0);
    expect((await run(['models', 'rm', 'tiny-llava', '--data-dir', dataDir])).code).toBe(3);
    expect((await run(['models', 'list', '--data-dir', dataDir])).out).toContain(
      'no models installed',
    );
  });

  it('draws a progress bar on a terminal and downloads into --dir', async () => {
    const dir = join(root, 'elsewhere');
    const { code, out } = await run(
      [
        'models',
        'pull',
        modelUri,
        '--mmproj',
        mmprojUri,
        '--dir',
        dir,
        '--base-url',
        server.hfBaseUrl,
      ],
      true,
    );
    expect(code).toBe(0);
    expect(out).toMatch(/\r\[[#.]+\]\s+\d+% /);
    expect(out).toContain('installed');
  });

  it('exits 3 on a checksum mismatch or a bad input, 4 on a network failure', async () => {
    const base = ['--base-url', server.hfBaseUrl, '--data-dir', join(root, 'data2')];
    const wrong = await run([
      'models',
      'pull',
      modelUri,
      '--mmproj',
      mmprojUri,
      '--sha256',
      'ab'.repeat(32),
      '--json',
      ...base,
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.out.trim().split('\n').at(-1)).toContain('CHECKSUM_MISMATCH');

    expect((await run(['models', 'pull', modelUri, ...base])).code).toBe(3);
    expect((await run(['models', 'pull', 'ftp://example/x.gguf', ...base])).code).toBe(3);
    expect(
      (await run(['models', 'pull', 'hf:org/missing/x.gguf', '--mmproj', mmprojUri, ...base])).code,
    ).toBe(3);

    const broken = server.addHubFile('org/broken', 'b.gguf', {
      body: Buffer.alloc(10),
      faults: [{ kind: 'status', status: 502, times: 1000 }],
    });
    const failed = await run(['models', 'pull', broken, '--mmproj', mmprojUri, ...base]);
    expect(failed.code).toBe(4);
    expect(failed.err).toContain('NETWORK_FAILED');
  });

  it('pulls a catalog entry and exits 3 when the hub-reported checksum does not match', async () => {
    const repo = 'ggml-org/SmolVLM-500M-Instruct-GGUF';
    server.addHubFile(repo, 'SmolVLM-500M-Instruct-Q8_0.gguf', {
      body: await readFile(pair.modelPath),
      linkedSha256: 'cd'.repeat(32),
    });
    const result = await run([
      'models',
      'pull',
      'smolvlm-500m-instruct-q8_0',
      '--base-url',
      server.hfBaseUrl,
      '--data-dir',
      join(root, 'data3'),
    ]);
    expect(result.code).toBe(3);
    expect(result.err).toContain('CHECKSUM_MISMATCH');
  });

  it('imports from disk (exit 0) and refuses a file that is not a GGUF (exit 3)', async () => {
    const dataDir = join(root, 'data4');
    const ok = await run([
      'models',
      'import',
      pair.modelPath,
      '--link',
      'symlink',
      '--data-dir',
      dataDir,
    ]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('imported');
    const junk = join(root, 'junk.gguf');
    await writeFile(junk, 'nope');
    const bad = await run(['models', 'import', junk, '--data-dir', dataDir]);
    expect(bad.code).toBe(3);
    expect(bad.err).toContain('NOT_GGUF');
  });
});
