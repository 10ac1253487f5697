import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoveryPath, findServer, publishDiscovery } from '../../src-main/server/discovery.js';

// The discovery file of a running server, on real files and a real listening socket.

let dir: string;
let server: Server | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-discovery-'));
});

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function listen(): Promise<number> {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const token = 't'.repeat(32);

describe('the discovery file', () => {
  it('is written for the user only, found while the server listens, removed by its server', async () => {
    const port = await listen();
    const unpublish = await publishDiscovery(dir, { host: '127.0.0.1', port, token });
    const file = discoveryPath(dir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const outcome = await findServer(dir);
    expect(outcome.found).toMatchObject({ pid: process.pid, port, token, host: '127.0.0.1' });
    expect(outcome.stale).toBeUndefined();
    await unpublish();
    expect(existsSync(file)).toBe(false);
    expect(await findServer(dir)).toEqual({});
  });

  it('is left alone by a server whose file was replaced by a newer one', async () => {
    const port = await listen();
    const unpublish = await publishDiscovery(dir, { host: '127.0.0.1', port, token });
    await publishDiscovery(dir, { host: '127.0.0.1', port, token: 'n'.repeat(32) });
    await unpublish();
    const left = JSON.parse(await readFile(discoveryPath(dir), 'utf8')) as { token: string };
    expect(left.token).toBe('n'.repeat(32));
  });

  it('is removed as stale when malformed or when the port refuses connections', async () => {
    await writeFile(discoveryPath(dir), '{"version":1,"pid":');
    expect(await findServer(dir)).toEqual({ stale: 'the discovery file is malformed' });
    expect(existsSync(discoveryPath(dir))).toBe(false);

    const port = await listen();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    await publishDiscovery(dir, { host: '127.0.0.1', port, token });
    const outcome = await findServer(dir);
    expect(outcome.found).toBeUndefined();
    expect(outcome.stale).toBe(`nothing accepts connections at 127.0.0.1:${port}`);
    expect(existsSync(discoveryPath(dir))).toBe(false);
  });
});
