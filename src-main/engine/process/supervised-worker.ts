import { LlavaDeskError } from '../../common/errors.js';
import type { ErrorCode } from '../../api/errors.js';
import { isRpcWorkerMessage, type RpcMethodMap, type RpcWorkerMessage } from './rpc-messages.js';
import type { WorkerChannel, WorkerExit, WorkerLauncher } from './worker-channel.js';

export interface CallOptions<E> {
  onEvent?: (event: E) => void;
  /** Asks the worker to stop; the call still settles with the worker's answer. */
  signal?: AbortSignal;
}

export interface SupervisionOptions {
  /** Crashes within this window count as "repeated". */
  crashWindowMs?: number;
  /** Delay before restarting after the n-th repeated crash: base * 2^(n-1), capped. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onEvent?: (event: unknown) => void;
  cleanup(): void;
}

/**
 * Runs an RPC worker process and keeps it running: a crash rejects every pending call with
 * ENGINE_CRASHED at once, and the next call starts a fresh process, after a growing delay when it
 * keeps crashing. Shared by the child_process host and Electron's utilityProcess host.
 */
export class SupervisedWorker<M extends RpcMethodMap> {
  #launcher: WorkerLauncher;
  #options: Required<SupervisionOptions>;
  #channel: WorkerChannel | undefined;
  #pending = new Map<number, Pending>();
  #nextSeq = 1;
  #crashTimes: number[] = [];
  #starts = 0;
  #disposed = false;
  #crashListeners: Array<(exit: WorkerExit) => void> = [];

  constructor(launcher: WorkerLauncher, options: SupervisionOptions = {}) {
    this.#launcher = launcher;
    this.#options = {
      crashWindowMs: options.crashWindowMs ?? 60_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 10_000,
    };
  }

  /** How many processes have been started; a caller re-sends its setup when this changes. */
  get generation(): number {
    return this.#starts;
  }

  get running(): boolean {
    return this.#channel !== undefined;
  }

  onCrash(listener: (exit: WorkerExit) => void): void {
    this.#crashListeners.push(listener);
  }

  async call<K extends keyof M & string>(
    method: K,
    params: M[K]['params'],
    options: CallOptions<M[K]['event']> = {},
  ): Promise<M[K]['result']> {
    if (this.#disposed) throw new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was shut down.');
    const channel = await this.#ensureStarted();
    const seq = this.#nextSeq++;
    return new Promise<M[K]['result']>((resolve, reject) => {
      const onAbort = (): void => channel.send({ kind: 'cancel', seq });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(seq, {
        resolve: resolve as (value: unknown) => void,
        reject,
        ...(options.onEvent ? { onEvent: options.onEvent as (event: unknown) => void } : {}),
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      });
      channel.send({ kind: 'request', seq, method, params });
      if (options.signal?.aborted) onAbort();
    });
  }

  /** Stops the process; pending calls are rejected. */
  dispose(): void {
    this.#disposed = true;
    const channel = this.#channel;
    this.#channel = undefined;
    this.#rejectAll('ENGINE_NOT_LOADED', 'The engine was shut down.');
    channel?.kill();
  }

  async #ensureStarted(): Promise<WorkerChannel> {
    if (this.#channel) return this.#channel;
    const delay = this.#restartDelay();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.#channel) return this.#channel;
    const channel = this.#launcher();
    this.#starts += 1;
    this.#channel = channel;
    channel.onMessage((message) => {
      if (isRpcWorkerMessage(message)) this.#handle(message);
    });
    channel.onExit((exit) => this.#handleExit(channel, exit));
    return channel;
  }

  #restartDelay(): number {
    const now = Date.now();
    this.#crashTimes = this.#crashTimes.filter((t) => now - t < this.#options.crashWindowMs);
    const repeated = this.#crashTimes.length - 1;
    if (repeated < 1) return 0;
    return Math.min(this.#options.backoffBaseMs * 2 ** (repeated - 1), this.#options.backoffMaxMs);
  }

  #handle(message: RpcWorkerMessage): void {
    if (message.kind === 'ready') return;
    const pending = this.#pending.get(message.seq);
    if (!pending) return;
    if (message.kind === 'event') {
      pending.onEvent?.(message.event);
      return;
    }
    this.#pending.delete(message.seq);
    pending.cleanup();
    if (message.kind === 'result') {
      pending.resolve(message.value);
    } else {
      const error = new LlavaDeskError(message.error.code, message.error.message);
      if (message.error.stack) error.stack = message.error.stack;
      pending.reject(error);
    }
  }

  #handleExit(channel: WorkerChannel, exit: WorkerExit): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    if (this.#disposed) return;
    this.#crashTimes.push(Date.now());
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    this.#rejectAll(
      'ENGINE_CRASHED',
      `The engine process stopped unexpectedly (${how}). It restarts on the next request.`,
    );
    for (const listener of this.#crashListeners) listener(exit);
  }

  #rejectAll(code: ErrorCode, message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) {
      call.cleanup();
      call.reject(new LlavaDeskError(code, message));
    }
  }
}
