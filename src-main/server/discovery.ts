import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { chmod, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The discovery file: a running `llava-desk serve` says in its data folder where its API listens
 * (loopback host, port, access token, pid), readable by the user only, so that `llava-desk ask`
 * of the same data folder runs through it instead of loading the model a second time. Removed
 * when the server stops; a file left by a server that died is noticed (pid gone or connection
 * refused) and removed by whoever reads it.
 */
export const DISCOVERY_FILE = 'server.json';

const discoverySchema = z.object({
  version: z.literal(1),
  pid: z.number().int().positive(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  token: z.string().min(16),
  startedAt: z.number(),
});

export type Discovery = z.infer<typeof discoverySchema>;

export function discoveryPath(dataDir: string): string {
  return join(dataDir, DISCOVERY_FILE);
}

/**
 * Writes this server's discovery file (mode 0600, atomically) and returns the function that
 * removes it; the file is also removed if the process exits without calling it. A file of
 * another server is never removed by this one.
 */
export async function publishDiscovery(
  dataDir: string,
  server: Omit<Discovery, 'version' | 'pid' | 'startedAt'>,
): Promise<() => Promise<void>> {
  const file = discoveryPath(dataDir);
  const content: Discovery = { version: 1, pid: process.pid, startedAt: Date.now(), ...server };
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  const ours = (text: string): boolean => {
    const parsed = discoverySchema.safeParse(safeJson(text));
    return parsed.success && parsed.data.pid === process.pid && parsed.data.token === server.token;
  };
  const onExit = (): void => {
    try {
      if (ours(readFileSync(file, 'utf8'))) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.once('exit', onExit);
  return async () => {
    process.off('exit', onExit);
    const text = await readFile(file, 'utf8').catch(() => '');
    if (ours(text)) await unlink(file).catch(() => undefined);
  };
}

/** `found`: the server to attach to; `stale`: why a file left behind was removed. */
export interface DiscoveryOutcome {
  found?: Discovery;
  stale?: string;
}

/**
 * The running server of this data folder, if any. A malformed file, a dead pid or a port that
 * refuses connections means a stale file: it is removed and `stale` says why.
 */
export async function findServer(dataDir: string, timeoutMs = 1500): Promise<DiscoveryOutcome> {
  const file = discoveryPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const parsed = discoverySchema.safeParse(safeJson(text));
  const drop = async (why: string): Promise<DiscoveryOutcome> => {
    // Only the file read: a server that started meanwhile has written a new one.
    const now = await readFile(file, 'utf8').catch(() => undefined);
    if (now === text) await unlink(file).catch(() => undefined);
    return { stale: why };
  };
  if (!parsed.success) return drop('the discovery file is malformed');
  const found = parsed.data;
  if (!processAlive(found.pid)) return drop(`process ${found.pid} is not running`);
  if (!(await accepts(found.host, found.port, timeoutMs))) {
    return drop(`nothing accepts connections at ${found.host}:${found.port}`);
  }
  return { found };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's. ESRCH: gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function accepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
