import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { WireServerMessage } from '../../src-main/api/contract.js';
import { BUG_PREFIX } from '../../src-main/common/report-bug.js';
import { decodeWire, encodeWire } from '../../src-main/server/wire-codec.js';
import {
  WS_PATH,
  WS_SUBPROTOCOL,
  WS_TOKEN_SUBPROTOCOL_PREFIX,
} from '../../src-main/shared/web-socket.js';

// A real `llava-desk serve` process, run from source (the CLI's main through tsx, as
// tests/fixtures/batch-cli-runner.ts runs it), and a real WebSocket client for its API.

const runner = fileURLToPath(new URL('../fixtures/batch-cli-runner.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  token: string;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Lines that say the server hit something it did not expect (unhandled rejection, bug log). */
  problems(): string[];
  stop(): Promise<void>;
}

export async function startServe(dataDir: string, extraArgs: string[] = []): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', runner, 'serve', '--port', '0', '--data-dir', dataDir, ...extraArgs],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL:\n${stderr}`)), 60_000);
    const look = (): void => {
      const match = /serving at (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${stderr}`));
    });
  });
  const parsed = new URL(url);
  return {
    child,
    pid: child.pid as number,
    url,
    port: Number(parsed.port),
    token: parsed.hash.replace(/^#token=/, ''),
    stdout: () => stdout,
    stderr: () => stderr,
    problems: () =>
      stderr
        .split('\n')
        .filter((line) => line.includes(BUG_PREFIX) || /unhandled|uncaught/i.test(line)),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A WebSocket client of the API, authorised as the served page would be. */
export class ApiSocket {
  readonly ws: WebSocket;
  readonly received: WireServerMessage[] = [];
  #nextId = 1;
  #waiters: Array<{
    test: (m: WireServerMessage) => boolean;
    resolve: (m: WireServerMessage) => void;
  }> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const message = decodeWire(data.toString()) as WireServerMessage;
      this.received.push(message);
      for (const waiter of [...this.#waiters]) {
        if (waiter.test(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  static async open(serve: Pick<ServeProcess, 'port' | 'token'>): Promise<ApiSocket> {
    const origin = `http://127.0.0.1:${serve.port}`;
    const ws = new WebSocket(
      `ws://127.0.0.1:${serve.port}${WS_PATH}`,
      [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${serve.token}`],
      { origin },
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new ApiSocket(ws);
  }

  /** Resolves with the first message (from now on, or already received) that passes `test`. */
  next(test: (m: WireServerMessage) => boolean, seen = false): Promise<WireServerMessage> {
    const already = seen ? this.received.find(test) : undefined;
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  async call(method: string, params: unknown = {}): Promise<WireServerMessage> {
    const id = this.#nextId++;
    const answer = this.next((m) => m.type === 'result' && m.id === id);
    this.ws.send(encodeWire({ type: 'call', id, method, params }));
    return answer;
  }

  /** The value of a call that must succeed. */
  async value<T>(method: string, params: unknown = {}): Promise<T> {
    const answer = await this.call(method, params);
    if (answer.type !== 'result' || !answer.ok) {
      throw new Error(`${method} failed: ${JSON.stringify(answer)}`);
    }
    return answer.value as T;
  }

  close(): void {
    this.ws.close();
  }
}

/** Whether a process runs (a zombie left for a PID 1 that does not reap counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc (macOS): signal 0 says whether the pid exists.
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The engine processes `pid` started that are still there (`ps`, on Linux and macOS): children
 * running the engine's worker module. Other children come and go (node-llama-cpp tests its
 * binaries in a short-lived child process), so the command line decides.
 */
export function enginePids(pid: number): number[] {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ child: Number(m[1]), parent: Number(m[2]), args: m[3] ?? '' }))
    .filter(
      ({ child, parent, args }) =>
        parent === pid && /engine[\\/]worker\.[cm]?[jt]s\b/.test(args) && isRunning(child),
    )
    .map(({ child }) => child);
}

/** Resolves true as soon as `done()` holds, false when `ms` pass first (polled every 50 ms). */
export async function within(ms: number, done: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
