import { SvelteMap } from 'svelte/reactivity';
import type {
  ApiCatalogModel,
  DownloadProgress,
  EngineStatus,
  ModelFitPlan,
  ModelsState,
} from '../../../src-main/api/contract';
import type { ApiClient } from '../api/client';
import { messageOf, type Toasts } from './toasts.svelte';

/** Installed models, the catalog, downloads with live progress, and the engine's status. */
export class ModelsStore {
  state = $state<ModelsState | null>(null);
  engine = $state<EngineStatus>({ state: 'none' });
  progress = new SvelteMap<string, DownloadProgress>();
  /** Load plans of installed models on this machine, by model id. */
  plans = new SvelteMap<string, ModelFitPlan>();
  busy = $state(false);
  readonly #client: ApiClient;
  readonly #toasts: Toasts;

  constructor(client: ApiClient, toasts: Toasts) {
    this.#client = client;
    this.#toasts = toasts;
    client.on('models.progress', ({ id, progress }) => this.progress.set(id, progress));
    client.on('models.changed', () => void this.refresh());
    client.on('models.download', ({ id, state, error }) => {
      if (state === 'done') {
        this.progress.delete(id);
        this.#toasts.info('The model is installed.');
      }
      if (state === 'failed' && error) this.#toasts.error(`Download failed: ${error.message}`);
      void this.refresh();
    });
    client.on('engine.status', (status) => {
      this.engine = status;
      if (status.state === 'error' && status.error) this.#toasts.error(status.error.message);
    });
  }

  get loaded(): boolean {
    return this.state !== null;
  }

  get hasModel(): boolean {
    return (this.state?.installed.length ?? 0) > 0;
  }

  get defaultEntry(): ApiCatalogModel | undefined {
    return this.state?.catalog.find((m) => m.isDefault);
  }

  /** A pair shipped with the app (the shapes demo): installed in seconds, no download. */
  get demoEntry(): ApiCatalogModel | undefined {
    return this.state?.catalog.find((m) => m.bundled && !m.installed);
  }

  get activeName(): string | undefined {
    const id = this.state?.activeModelId;
    return this.state?.installed.find((m) => m.id === id)?.displayName;
  }

  /** Asks how a model would be loaded (GPU layers, context, memory) before it is loaded. */
  async loadPlan(id: string): Promise<void> {
    try {
      this.plans.set(id, await this.#client.call('models.plan', { id }));
    } catch {
      this.plans.delete(id);
    }
  }

  download(id: string): Promise<void> {
    return this.#run(async () => {
      await this.#client.call('models.download', { catalogId: id });
    });
  }

  cancel(id: string, keepPartial = true): Promise<void> {
    return this.#run(async () => {
      await this.#client.call('models.cancelDownload', { id, keepPartial });
      this.progress.delete(id);
    });
  }

  remove(id: string): Promise<void> {
    return this.#run(async () => {
      await this.#client.call('models.delete', { id });
    });
  }

  import(path: string, mmprojPath: string): Promise<void> {
    return this.#run(async () => {
      const model = await this.#client.call('models.import', {
        path,
        ...(mmprojPath.trim() !== '' ? { mmprojPath: mmprojPath.trim() } : {}),
      });
      this.#toasts.info(`${model.displayName} is installed.`);
    });
  }

  select(id: string): Promise<void> {
    return this.#run(async () => {
      this.engine = await this.#client.call('models.select', { id });
    });
  }

  async refresh(): Promise<void> {
    try {
      const [state, engine] = await Promise.all([
        this.#client.call('models.list', {}),
        this.#client.call('engine.status', {}),
      ]);
      this.state = state;
      this.engine = engine;
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async #run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await action();
      await this.refresh();
    } catch (error) {
      this.#toasts.error(messageOf(error));
    } finally {
      this.busy = false;
    }
  }
}
