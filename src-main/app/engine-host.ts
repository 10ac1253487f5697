import type { EngineStatus } from '../api/contract.js';
import type { EngineLoadOptions } from '../api/engine.js';
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
}

export interface LoadedEngine {
  client: EngineClient;
  model: InstalledModel;
}

/**
 * Owns the engine process for the app: which model chats use (the chosen one, else the catalog
 * default, else the first installed), loading it on first use with the current settings, and the
 * status the window shows. Settings changes take effect at the next answer.
 */
export class EngineHost {
  readonly #options: EngineHostOptions;
  #client: EngineClient | undefined;
  #status: EngineStatus = { state: 'none' };
  #loadedKey: string | undefined;
  #loading: Promise<LoadedEngine> | undefined;

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
    const model = await this.activeModel();
    if (!model) {
      this.#loadedKey = undefined;
      this.#set({ state: 'none' });
    } else if (this.#loadedKey !== this.#keyFor(model)) {
      const keep = this.#status.state === 'error' && this.#status.modelId === model.id;
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
    const key = this.#keyFor(model);
    if (this.#loadedKey === key) return { client, model };
    const display = { modelId: model.id, displayName: model.manifest.displayName };
    this.#set({ state: 'loading', ...display });
    const loading = (async (): Promise<LoadedEngine> => {
      try {
        const info = await client.load(this.#loadOptions(model));
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
        return { client, model };
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
      this.#loading = undefined;
    }
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.#client?.closeSession(sessionId).catch(() => undefined);
  }

  /** Stops the engine process (the model unloads); the next answer starts a fresh one. */
  unload(): void {
    this.#client?.dispose();
    this.#client = undefined;
    this.#loadedKey = undefined;
  }

  dispose(): void {
    this.unload();
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
    });
    return client;
  }

  #loadOptions(model: InstalledModel): EngineLoadOptions {
    const { threads, gpuLayers, contextSize } = this.#options.settings.current;
    return {
      modelPath: model.modelPath,
      mmprojPath: model.mmprojPath,
      gpuLayers,
      contextSize,
      ...(threads !== 'auto' ? { threads } : {}),
      template: model.manifest.promptTemplate === 'gguf-jinja' ? 'gguf' : 'vicuna_v1',
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
