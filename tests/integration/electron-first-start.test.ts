// `npm start` on a fresh install: Electron's binary is fetched through electron's own installer
// before electron-vite starts (scripts/start-electron.mjs).
//
// Each test runs the real launcher in a scratch project whose node_modules/electron is a copy of
// the installed electron package (its install.js, checksums.json, package.json), using the real
// @electron/get, against a loopback HTTP mirror (ELECTRON_MIRROR) with a temporary Electron cache.
// Two mocks, because the real things cannot exist here: the "Electron" archive holds a stub
// executable (no Electron binary can be downloaded), and electron-vite is a stub that reports what
// it was started with and whether electron's path.txt and binary were in place at that moment.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runProcess } from '../../scripts/lib/run-process.js';
import { storedZip } from '../support/stored-zip.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAUNCHER = join(ROOT, 'scripts', 'start-electron.mjs');
const ELECTRON_VERSION = (
  JSON.parse(await readFile(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const PLATFORM_EXECUTABLE =
  process.platform === 'win32'
    ? 'electron.exe'
    : process.platform === 'darwin'
      ? 'Electron.app/Contents/MacOS/Electron'
      : 'electron';
const ARCHIVE = `electron-v${ELECTRON_VERSION}-${process.platform}-${process.arch}.zip`;

// Mock electron-vite: prints one JSON line with its arguments and what it finds of Electron.
const STUB_ELECTRON_VITE = `
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const electronDir = join(process.cwd(), 'node_modules', 'electron');
const pathTxt = join(electronDir, 'path.txt');
const executable = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8') : null;
console.log('STUB-ELECTRON-VITE ' + JSON.stringify({
  args: process.argv.slice(2),
  pathTxt: executable,
  binaryExists: executable !== null && existsSync(join(electronDir, 'dist', executable)),
}));
`;

let scratch: string;
let project: string;
let cache: string;
let mirror: Mirror;

interface Mirror {
  server: Server;
  url: string;
  requests: string[];
  files: Map<string, Buffer>;
}

async function startMirror(): Promise<Mirror> {
  const files = new Map<string, Buffer>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end('not here');
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/`, requests, files };
}

/** A port on loopback that nothing listens on: "offline". */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The stub archive and its own SHASUMS256.txt on the mirror (ELECTRON_CUSTOM_DIR layout v<ver>/). */
function publishArchive(target: Mirror, checksumOverride?: string): Buffer {
  const zip = storedZip({
    [PLATFORM_EXECUTABLE]: '#!/bin/sh\necho "stub electron"\n',
    version: `v${ELECTRON_VERSION}`,
  });
  const sum = checksumOverride ?? createHash('sha256').update(zip).digest('hex');
  target.files.set(`/v${ELECTRON_VERSION}/${ARCHIVE}`, zip);
  target.files.set(`/v${ELECTRON_VERSION}/SHASUMS256.txt`, Buffer.from(`${sum} *${ARCHIVE}\n`));
  return zip;
}

function launch(mode: 'preview' | 'dev', env: NodeJS.ProcessEnv) {
  const base = { ...process.env };
  // the developer's own Electron settings must not leak in
  for (const key of Object.keys(base))
    if (/^(electron_|npm_config_electron|ELECTRON_)/i.test(key)) delete base[key];
  return runProcess(
    process.execPath,
    [LAUNCHER, mode],
    {
      ...base,
      electron_config_cache: cache,
      ...env,
    },
    project,
  );
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'llava-desk-electron-start-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

beforeEach(async () => {
  // a fresh project: electron without its binary, the real @electron/get, mock electron-vite
  project = await mkdtemp(join(scratch, 'project-'));
  cache = join(project, 'electron-cache');
  const modules = join(project, 'node_modules');
  const electronDir = join(modules, 'electron');
  await mkdir(electronDir, { recursive: true });
  for (const file of ['package.json', 'install.js', 'checksums.json', 'index.js', 'cli.js'])
    await copyFile(join(ROOT, 'node_modules/electron', file), join(electronDir, file));
  for (const scope of ['@electron', '@electron-internal'])
    await symlink(join(ROOT, 'node_modules', scope), join(modules, scope), 'junction');
  await mkdir(join(modules, 'electron-vite', 'bin'), { recursive: true });
  await writeFile(
    join(modules, 'electron-vite', 'package.json'),
    JSON.stringify({ name: 'electron-vite', bin: { 'electron-vite': 'bin/electron-vite.cjs' } }),
  );
  await writeFile(join(modules, 'electron-vite', 'bin', 'electron-vite.cjs'), STUB_ELECTRON_VITE);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true }),
  );
  mirror = await startMirror();
});

afterEach(async () => {
  await new Promise<void>((resolve) => mirror.server.close(() => resolve()));
});

function stubReport(stdout: string): {
  args: string[];
  pathTxt: string | null;
  binaryExists: boolean;
} {
  const line = stdout.split('\n').find((l) => l.startsWith('STUB-ELECTRON-VITE '));
  expect(line, `electron-vite was not started; output:\n${stdout}`).toBeDefined();
  return JSON.parse(line!.slice('STUB-ELECTRON-VITE '.length)) as {
    args: string[];
    pathTxt: string | null;
    binaryExists: boolean;
  };
}

describe('npm start on a fresh install', () => {
  it('offline: stops with one readable message (what failed, how to retry, the browser alternative) and starts nothing', async () => {
    const run = await launch('preview', {
      ELECTRON_MIRROR: `http://127.0.0.1:${await closedPort()}/`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "llava-desk: could not download Electron's binary: the download server could not be reached (ECONNREFUSED)",
    );
    expect(run.stderr).toContain('Retry with "npm start" once the internet is reachable');
    expect(run.stderr).toContain('npx llava-desk serve');
    expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(run.stderr).not.toMatch(/Error:/);
    expect(run.stdout).not.toContain('STUB-ELECTRON-VITE');
    expect(existsSync(join(project, 'node_modules/electron/path.txt'))).toBe(false);
  });

  it('downloads the binary from ELECTRON_MIRROR (checksum from the mirror), unpacks it, then starts electron-vite with path.txt in place', async () => {
    const zip = publishArchive(mirror);
    const run = await launch('preview', {
      ELECTRON_MIRROR: mirror.url,
      electron_use_remote_checksums: '1',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `llava-desk: first start: downloading Electron ${ELECTRON_VERSION} for ${process.platform}-${process.arch}`,
    );
    expect(run.stdout).toContain(`llava-desk: Electron ${ELECTRON_VERSION} is ready`);
    expect(mirror.requests).toEqual(
      expect.arrayContaining([
        `/v${ELECTRON_VERSION}/${ARCHIVE}`,
        `/v${ELECTRON_VERSION}/SHASUMS256.txt`,
      ]),
    );
    expect(stubReport(run.stdout)).toEqual({
      args: ['preview'],
      pathTxt: PLATFORM_EXECUTABLE,
      binaryExists: true,
    });
    // the archive went through @electron/get's cache, as electron's installer keeps it
    const cached = await readdir(cache, { recursive: true });
    const cachedArchive = cached.find((f) => String(f).endsWith(ARCHIVE));
    expect(cachedArchive).toBeDefined();
    expect(await readFile(join(cache, String(cachedArchive)))).toEqual(zip);

    // the second start finds the binary and downloads nothing
    const requestsBefore = mirror.requests.length;
    const again = await launch('dev', {
      ELECTRON_MIRROR: mirror.url,
      electron_use_remote_checksums: '1',
    });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('downloading Electron');
    expect(stubReport(again.stdout).args).toEqual(['dev']);
    expect(mirror.requests.length).toBe(requestsBefore);
  });

  it('an archive that fails its checksum is refused with the reason, nothing is unpacked', async () => {
    publishArchive(mirror, '0'.repeat(64));
    const run = await launch('dev', {
      ELECTRON_MIRROR: mirror.url,
      electron_use_remote_checksums: '1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the downloaded archive failed its checksum');
    expect(run.stderr).toContain('Retry with "npm run dev"');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).not.toContain('STUB-ELECTRON-VITE');
    expect(existsSync(join(project, 'node_modules/electron/dist'))).toBe(false);
  });

  it('a mirror without this Electron says which HTTP answer it got', async () => {
    const run = await launch('preview', {
      ELECTRON_MIRROR: mirror.url,
      electron_use_remote_checksums: '1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the download server answered HTTP 404/);
    expect(run.stdout).not.toContain('STUB-ELECTRON-VITE');
  });
});
