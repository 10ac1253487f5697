import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  AskResult,
  EngineInfo,
  EngineLoadOptions,
  ImageEmbeddings,
  PreparedImage,
  TokenEvent,
} from '../api/engine.js';
import type { EngineMethods } from './engine-methods.js';
import { forkLauncher } from './process/fork-launcher.js';
import { SupervisedWorker, type SupervisionOptions } from './process/supervised-worker.js';
import type { WorkerExit, WorkerLauncher } from './process/worker-channel.js';
import type { CompletionRequest, ManyCallbacks, ManyOutcome } from './vision-engine.js';

/**
 * The engine as the rest of the app uses it: a supervised child process. After a crash the next
 * call starts a fresh process and loads the same model again before answering.
 */
export class EngineClient {
  readonly #worker: SupervisedWorker<EngineMethods>;
  #loadOptions: EngineLoadOptions | undefined;
  #info: EngineInfo | undefined;
  #loadedGeneration = -1;

  constructor(launcher: WorkerLauncher = defaultEngineLauncher(), options?: SupervisionOptions) {
    this.#worker = new SupervisedWorker<EngineMethods>(launcher, options);
  }

  get info(): EngineInfo | undefined {
    return this.#info;
  }

  onCrash(listener: (exit: WorkerExit) => void): void {
    this.#worker.onCrash(listener);
  }

  async load(options: EngineLoadOptions): Promise<EngineInfo> {
    this.#loadOptions = options;
    this.#info = await this.#worker.call('load', options);
    this.#loadedGeneration = this.#worker.generation;
    return this.#info;
  }

  async complete(
    request: CompletionRequest,
    callbacks: { onToken?: (event: TokenEvent) => void; signal?: AbortSignal } = {},
  ): Promise<AskResult> {
    await this.#reloadAfterRestart();
    return this.#worker.call('complete', request, {
      ...(callbacks.onToken ? { onEvent: callbacks.onToken } : {}),
      ...(callbacks.signal ? { signal: callbacks.signal } : {}),
    });
  }

  /** VisionEngine.completeMany in the engine process. */
  async completeMany(
    requests: CompletionRequest[],
    callbacks: ManyCallbacks = {},
  ): Promise<ManyOutcome[]> {
    await this.#reloadAfterRestart();
    const onToken = callbacks.onToken;
    return this.#worker.call(
      'completeMany',
      { requests },
      {
        ...(onToken ? { onEvent: ({ index, ...event }) => onToken(index, event) } : {}),
        ...(callbacks.signal ? { signal: callbacks.signal } : {}),
      },
    );
  }

  /** VisionEngine.embedImages in the engine process. */
  async embedImages(images: PreparedImage[]): Promise<ImageEmbeddings> {
    await this.#reloadAfterRestart();
    return this.#worker.call('embedImages', { images });
  }

  async closeSession(sessionId: string): Promise<void> {
    if (this.#worker.running) await this.#worker.call('closeSession', { sessionId });
  }

  /** The engine process's pid (tests use it to kill the engine as a crash would). */
  pid(): Promise<number> {
    return this.#worker.call('pid', {});
  }

  dispose(): void {
    this.#worker.dispose();
  }

  async #reloadAfterRestart(): Promise<void> {
    if (!this.#loadOptions) return;
    // A process started since the last load (after a crash) has no model: load it again.
    if (this.#worker.running && this.#worker.generation === this.#loadedGeneration) return;
    await this.load(this.#loadOptions);
  }
}

/**
 * The compiled worker (dist/engine/worker.js) when it exists, else the TypeScript source run
 * through tsx (development and tests).
 */
export function defaultEngineLauncher(): WorkerLauncher {
  const compiled = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(compiled)) return forkLauncher({ modulePath: compiled });
  const source = fileURLToPath(new URL('./worker.ts', import.meta.url));
  return forkLauncher({ modulePath: source, execArgv: ['--import', 'tsx'] });
}
