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
  /** Per session, the images whose pixels this process has evaluated (reset by each load). */
  #sentImages = new Map<string, Set<string>>();

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
    this.#sentImages.clear();
    this.#info = await this.#worker.call('load', options);
    this.#loadedGeneration = this.#worker.generation;
    return this.#info;
  }

  /**
   * VisionEngine.complete in the engine process. The pixels of images this session already had
   * evaluated are left out (the engine keys them by id and reuses its cache); if the engine no
   * longer holds one (its sequence went to another session, an edit cut it away) it answers
   * ENGINE_IMAGES_NEEDED before evaluating anything, and the request goes again with every pixel.
   */
  async complete(
    request: CompletionRequest,
    callbacks: { onToken?: (event: TokenEvent) => void; signal?: AbortSignal } = {},
  ): Promise<AskResult> {
    await this.#reloadAfterRestart();
    const options = {
      ...(callbacks.onToken ? { onEvent: callbacks.onToken } : {}),
      ...(callbacks.signal ? { signal: callbacks.signal } : {}),
    };
    const sent = this.#sentImages.get(request.sessionId);
    const lean = sent ? withoutPixelsOf(request, sent) : request;
    let result: AskResult;
    try {
      result = await this.#worker.call('complete', lean, options);
    } catch (error) {
      if (lean === request || (error as { code?: unknown }).code !== 'ENGINE_IMAGES_NEEDED') {
        throw error;
      }
      result = await this.#worker.call('complete', request, options);
    }
    const ids = this.#sentImages.get(request.sessionId) ?? new Set<string>();
    for (const image of request.images) ids.add(image.id);
    this.#sentImages.set(request.sessionId, ids);
    return result;
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

  /** Ends the session; with `keepCache` its tokens stay for other sessions to start from. */
  async closeSession(sessionId: string, options: { keepCache?: boolean } = {}): Promise<void> {
    this.#sentImages.delete(sessionId);
    if (this.#worker.running) {
      await this.#worker.call('closeSession', { sessionId, keepCache: options.keepCache === true });
    }
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

/** The request with the pixels of the images in `held` left out (the same object when none is). */
function withoutPixelsOf(request: CompletionRequest, held: ReadonlySet<string>): CompletionRequest {
  if (!request.images.some((image) => held.has(image.id) && image.rgb)) return request;
  return {
    ...request,
    images: request.images.map((image) =>
      held.has(image.id) ? { id: image.id, width: image.width, height: image.height } : image,
    ),
  };
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
