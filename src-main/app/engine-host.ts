import { realpath } from 'node:fs/promises';
import type { EngineStatus } from '../api/contract.js';
import type { EngineInfo, EngineLoadOptions } from '../api/engine.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import { EngineClient, defaultEngineLauncher } from '../engine/engine-client.js';
import type { WorkerLauncher } from '../engine/process/worker-channel.js';
import { listModels, type InstalledModel } from '../models/registry/registry.js';
import type { CoreEvents } from './events.js';
import type { SettingsStore } from './settings-store.js';

export interface EngineHostOptions {
  modelsDir: string;
  settings: SettingsStore;
  events: CoreEvents;
  /** The catalog's default id: preferred when the user has chosen no model. */
  defaultCatalogId: () => Promise<string | undefined>;
  launcher?: () => WorkerLauncher;
  /** Where the engine remembers its start (the data folder's engine-start.json). */
  startupMemoPath?: string;
}

export interface LoadedEngine {
  client: EngineClient;
  model: InstalledModel;
}

/** What a batch job needs of the shared engine: sequences at once and tokens per sequence. */
export interface BatchNeeds {
  parallel: number;
  contextSize: number;
}

/** The app's engine, reloaded for a batch job; chats keep using it until release(). */
export interface BatchLease extends LoadedEngine {
  info: EngineInfo;
  /** The job is over: the idle time counts again, the next answer loads with the chat settings. */
  release(): void;
}

/**
 * Owns the engine process for the app: which model chats use (the chosen one, else the catalog
 * default, else the first installed), loading it on first use with the current settings, and the
 * status the window shows. Settings changes take effect at the next answer. Work goes through
 * use(): after `idleUnloadMinutes` with none running, the engine process ends (the model leaves
 * memory, like Ollama's keep-alive) and the next use loads it again.
 */
export class EngineHost {
  readonly #options: EngineHostOptions;
  #client: EngineClient | undefined;
  #status: EngineStatus = { state: 'none' };
  #loadedKey: string | undefined;
  #loading: Promise<LoadedEngine> | undefined;
  /** Uses under way (answers, a batch job): no idle unload while any runs. */
  #busy = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  /** A batch job's hold on the engine: its model stays loaded, with the job's sequences. */
  #lease:
    | { model: InstalledModel; options: EngineLoadOptions; key: string; restarted: boolean }
    | undefined;

  constructor(options: EngineHostOptions) {
    this.#options = options;
  }

  get status(): EngineStatus {
    return this.#status;
  }

  /** The model chats use now, if any is installed. */
  async activeModel(): Promise<InstalledModel | undefined> {
    const { installed } = await listModels(this.#options.modelsDir);
    const chosen = this.#options.settings.current.modelId;
    const defaultId = await this.#options.defaultCatalogId();
    return (
      installed.find((m) => m.id === chosen) ??
      installed.find((m) => m.id === defaultId || m.manifest.catalogId === defaultId) ??
      installed[0]
    );
  }

  /** Recomputes the status when no load is under way (after installs, deletes, settings). */
  async refresh(): Promise<EngineStatus> {
    if (this.#loading) return this.#status;
    this.#scheduleIdleUnload();
    const model = await this.activeModel();
    if (!model) {
      this.#loadedKey = undefined;
      this.#set({ state: 'none' });
    } else if (this.#lease) {
      // The job's load stands until it ends (a model chosen meanwhile waits, see ensureLoaded).
    } else if (this.#loadedKey !== this.#keyFor(model)) {
      // A failed load and an idle unload stay said until the next load.
      const keep =
        (this.#status.state === 'error' || this.#status.unloadedIdle === true) &&
        this.#status.modelId === model.id;
      this.#set(
        keep
          ? this.#status
          : { state: 'idle', modelId: model.id, displayName: model.manifest.displayName },
      );
    }
    return this.#status;
  }

  /** Loads the active model with the current settings (a no-op when already loaded so). */
  async ensureLoaded(): Promise<LoadedEngine> {
    while (this.#loading) {
      const loaded = await this.#loading.catch(() => undefined);
      if (loaded && this.#loadedKey === this.#keyFor(loaded.model)) return loaded;
    }
    const model = await this.activeModel();
    if (!model) {
      throw new LlavaDeskError(
        'ENGINE_NOT_LOADED',
        'No model is installed. Open Models to download or import one.',
      );
    }
    const client = (this.#client ??= this.#newClient());
    if (this.#lease) {
      // One model in memory: chats share the job's engine (its sequences take turns with the
      // job's), and another model is refused rather than loaded beside it.
      if (model.id !== this.#lease.model.id) throw this.#busyError(this.#lease.model);
      return { client, model: this.#lease.model };
    }
    const key = this.#keyFor(model);
    if (this.#loadedKey === key) return { client, model };
    return this.#load(client, model, this.#loadOptions(model), key);
  }

  /** Loads `options` in the engine process, saying so in the status. */
  async #load(
    client: EngineClient,
    model: InstalledModel,
    options: EngineLoadOptions,
    key: string,
  ): Promise<LoadedEngine & { info: EngineInfo }> {
    const display = { modelId: model.id, displayName: model.manifest.displayName };
    this.#set({ state: 'loading', ...display });
    const loading = (async (): Promise<LoadedEngine & { info: EngineInfo }> => {
      try {
        const info = await client.load(options);
        this.#loadedKey = key;
        this.#set({
          state: 'ready',
          ...display,
          info: {
            variant: info.variant,
            gpu: info.gpu,
            gpuLayers: info.gpuLayers,
            contextSize: info.contextSize,
          },
        });
        this.#scheduleIdleUnload();
        return { client, model, info };
      } catch (error) {
        this.#loadedKey = undefined;
        this.#set({ state: 'error', ...display, error: serializeError(error) });
        throw error;
      }
    })();
    this.#loading = loading;
    try {
      return await loading;
    } finally {
      if (this.#loading === loading) this.#loading = undefined;
    }
  }

  /**
   * Runs work on the loaded engine (loading it first when needed); the idle time counts from the
   * end of the last such work.
   */
  async use<T>(work: (loaded: LoadedEngine) => Promise<T>): Promise<T> {
    this.#busy += 1;
    this.#cancelIdleUnload();
    try {
      return await work(await this.ensureLoaded());
    } finally {
      this.#busy -= 1;
      this.#scheduleIdleUnload();
    }
  }

  /**
   * Loads the active model in the app's engine process with the sequences a batch job needs (the
   * chat load it replaces is freed first, so one copy of the model is in memory) and holds it
   * there until release(): answers meanwhile run on it between the job's steps.
   */
  async leaseForBatch(needs: BatchNeeds): Promise<BatchLease> {
    if (this.#lease) {
      throw new LlavaDeskError('JOB_RUNNING', 'A batch job is running. Cancel it first.');
    }
    while (this.#loading) await this.#loading.catch(() => undefined);
    const model = await this.activeModel();
    if (!model) {
      throw new LlavaDeskError(
        'ENGINE_NOT_LOADED',
        'No model is installed. Open Models to download or import one.',
      );
    }
    const chat = this.#loadOptions(model);
    const options: EngineLoadOptions = {
      ...chat,
      // The job's sequences, or the chat's when it has more: answers never get fewer.
      parallel: Math.max(1, needs.parallel, chat.parallel ?? 1),
      // Per sequence: what the job needs, or the chat's own size when that is larger.
      contextSize: Math.max(
        needs.contextSize,
        typeof chat.contextSize === 'number' ? chat.contextSize : 0,
      ),
    };
    const key = JSON.stringify(options);
    const lease = { model, options, key, restarted: false };
    this.#lease = lease;
    this.#busy += 1;
    this.#cancelIdleUnload();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (this.#lease === lease) this.#lease = undefined;
      this.#busy -= 1;
      this.#scheduleIdleUnload();
    };
    try {
      const client = (this.#client ??= this.#newClient());
      const { info } = await this.#load(client, model, options, key);
      return { client, model, info, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Refuses switching to `modelId` while a batch job holds another model (MODEL_BUSY). */
  assertCanSwitch(modelId: string): void {
    if (this.#lease && this.#lease.model.id !== modelId) throw this.#busyError(this.#lease.model);
  }

  /**
   * Refuses (MODEL_BUSY) a request that names model files other than the active model's: a
   * client of a running app never makes it load a second model.
   */
  async assertActivePair(files: { modelPath?: string; mmprojPath?: string }): Promise<void> {
    if (files.modelPath === undefined && files.mmprojPath === undefined) return;
    if (files.modelPath === undefined || files.mmprojPath === undefined) {
      throw new LlavaDeskError('USAGE', '--model and --mmproj go together: give both files.');
    }
    const active = await this.activeModel();
    if (!active) return;
    const same =
      (await samePath(files.modelPath, active.modelPath)) &&
      (await samePath(files.mmprojPath, active.mmprojPath));
    if (!same) {
      throw new LlavaDeskError(
        'MODEL_BUSY',
        `The running llava-desk uses ${active.manifest.displayName}, not the model asked for; ` +
          'it never loads a second model. Leave out --model/--mmproj, or use --standalone.',
      );
    }
  }

  /** Refuses taking away `modelId` (deleting it) while a batch job runs on it (MODEL_BUSY). */
  assertNotInUse(modelId: string): void {
    if (this.#lease?.model.id === modelId) throw this.#busyError(this.#lease.model);
  }

  async closeSession(sessionId: string, options: { keepCache?: boolean } = {}): Promise<void> {
    await this.#client?.closeSession(sessionId, options).catch(() => undefined);
  }

  /** Stops the engine process (the model unloads); the next answer starts a fresh one. */
  unload(): void {
    this.#cancelIdleUnload();
    this.#client?.dispose();
    this.#client = undefined;
    this.#loadedKey = undefined;
  }

  dispose(): void {
    this.unload();
  }

  #busyError(model: InstalledModel): LlavaDeskError {
    return new LlavaDeskError(
      'MODEL_BUSY',
      `A batch job is using ${model.manifest.displayName}. Another model loads when it ends ` +
        '(or cancel it); two models are not kept in memory at once.',
    );
  }

  #cancelIdleUnload(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** (Re)starts the idle countdown when a model is loaded and nothing runs. */
  #scheduleIdleUnload(): void {
    this.#cancelIdleUnload();
    const minutes = this.#options.settings.current.idleUnloadMinutes;
    if (this.#busy > 0 || this.#loadedKey === undefined || !(minutes > 0)) return;
    this.#idleTimer = setTimeout(() => this.#unloadIdle(), minutes * 60_000);
    this.#idleTimer.unref();
  }

  #unloadIdle(): void {
    this.#idleTimer = undefined;
    if (this.#busy > 0 || this.#loading || this.#loadedKey === undefined) return;
    const { modelId, displayName } = this.#status;
    this.unload();
    this.#set({
      state: 'idle',
      ...(modelId !== undefined ? { modelId } : {}),
      ...(displayName !== undefined ? { displayName } : {}),
      unloadedIdle: true,
    });
  }

  #newClient(): EngineClient {
    const client = new EngineClient((this.#options.launcher ?? defaultEngineLauncher)());
    // Said at once, not at the next request: the window shows it, and the next answer reloads.
    client.onCrash((exit) => {
      if (this.#client !== client) return;
      this.#loadedKey = undefined;
      const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      const { modelId, displayName } = this.#status;
      this.#set({
        state: 'error',
        ...(modelId !== undefined ? { modelId } : {}),
        ...(displayName !== undefined ? { displayName } : {}),
        error: {
          code: 'ENGINE_CRASHED',
          message: `The engine stopped unexpectedly (${how}). It starts again with the next question.`,
        },
      });
      // A batch job holds the engine: it is started again at once (once per job), so the job
      // continues and the status says when the model is back.
      const lease = this.#lease;
      if (lease && !lease.restarted) {
        lease.restarted = true;
        this.#load(client, lease.model, lease.options, lease.key).catch(() => undefined);
      }
    });
    return client;
  }

  #loadOptions(model: InstalledModel): EngineLoadOptions {
    const { threads, gpuLayers, contextSize, parallelAnswers } = this.#options.settings.current;
    return {
      modelPath: model.modelPath,
      mmprojPath: model.mmprojPath,
      gpuLayers,
      contextSize,
      parallel: parallelAnswers,
      ...(threads !== 'auto' ? { threads } : {}),
      template: model.manifest.promptTemplate === 'gguf-jinja' ? 'gguf' : 'vicuna_v1',
      ...(this.#options.startupMemoPath !== undefined
        ? { startupMemoPath: this.#options.startupMemoPath }
        : {}),
    };
  }

  #keyFor(model: InstalledModel): string {
    return JSON.stringify(this.#loadOptions(model));
  }

  #set(status: EngineStatus): void {
    this.#status = status;
    this.#options.events.emit('engine.status', status);
  }
}

async function samePath(a: string, b: string): Promise<boolean> {
  const [ra, rb] = await Promise.all([realpath(a).catch(() => a), realpath(b).catch(() => b)]);
  return ra === rb;
}
