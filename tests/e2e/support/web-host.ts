import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningWebHost {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface WebHostOptions {
  /** Prepares the fresh data folder before the server starts (install a model, write chats...). */
  prepare?: (dataDir: string) => Promise<void>;
  /** Extra environment for `llava-desk serve` (catalog, hub base URL...). */
  env?: Record<string, string> | ((dataDir: string) => Record<string, string>);
}

const root = new URL('../../../', import.meta.url);

/**
 * Starts `llava-desk serve --port 0` as a user would (the built CLI, a fresh data folder) and
 * resolves with the URL it prints.
 */
export async function startWebHost(options: WebHostOptions = {}): Promise<RunningWebHost> {
  const dataDir = await mkdtemp(join(tmpdir(), 'llava-desk-e2e-'));
  await options.prepare?.(dataDir);
  const child = spawn(
    process.execPath,
    ['bin/llava-desk.js', 'serve', '--port', '0', '--data-dir', dataDir],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(typeof options.env === 'function' ? options.env(dataDir) : options.env),
      },
    },
  );
  const url = await readServedUrl(child);
  return {
    url,
    dataDir,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function readServedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /serving at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
}
