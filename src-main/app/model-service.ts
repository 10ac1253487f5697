import { totalmem } from 'node:os';
import { getLlama, type Llama } from 'node-llama-cpp';
import type {
  ApiCatalogModel,
  ApiDownload,
  ApiInstalledModel,
  DownloadProgress,
  ModelsState,
  ModelFitPlan,
} from '../api/contract.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import {
  appRootOf,
  DEFAULT_CATALOG_PATH,
  findCatalogEntry,
  loadCatalog,
} from '../models/catalog/load-catalog.js';
import { isBundledPair } from '../models/bundled-files.js';
import type { Catalog } from '../models/catalog/schema.js';
import type { RetryPolicy } from '../models/download/retry-policy.js';
import { planModelFit } from '../models/fit/plan-model-fit.js';
import { importModel } from '../models/import-model.js';
import { startPull, type PullHandle } from '../models/pull.js';
import { listModels, removeModel, type InstalledModel } from '../models/registry/registry.js';
import type { EngineHost } from './engine-host.js';
import type { CoreEvents } from './events.js';
import type { SettingsStore } from './settings-store.js';

export interface ModelServiceOptions {
  modelsDir: string;
  catalogPath?: string;
  hfBaseUrl: string;
  hfToken?: string;
  retry?: Partial<RetryPolicy>;
  events: CoreEvents;
  settings: SettingsStore;
  engine: EngineHost;
  /** Called when the active model may have changed (install, delete, select). */
  onActiveChanged: () => void;
}

interface RunningDownload {
  handle: PullHandle;
  displayName: string;
  progress?: DownloadProgress;
  error?: { code: LlavaDeskError['code']; message: string };
  state: 'running' | 'failed';
}

/**
 * The model manager behind the window: the catalog with what fits this machine, downloads with
 * progress (cancel keeps the partial files, so a later download resumes), delete, import, and the
 * choice of the model chats use.
 */
export class ModelService {
  readonly #options: ModelServiceOptions;
  #catalog: Promise<Catalog> | undefined;
  #downloads = new Map<string, RunningDownload>();
  #llamaInstance: Promise<Llama | undefined> | undefined;

  constructor(options: ModelServiceOptions) {
    this.#options = options;
  }

  catalog(): Promise<Catalog> {
    this.#catalog ??= loadCatalog(this.#options.catalogPath);
    return this.#catalog;
  }

  async defaultCatalogId(): Promise<string | undefined> {
    return (await this.catalog()).models.find((m) => m.default === true)?.id;
  }

  /**
   * The plan for loading an installed model with the current GPU-layer and context settings:
   * what the settings leave on 'auto' is sized for this machine's RAM and VRAM.
   */
  async plan(id: string): Promise<ModelFitPlan> {
    const { installed } = await listModels(this.#options.modelsDir);
    const model = installed.find((m) => m.id === id);
    if (!model) throw new LlavaDeskError('MODEL_NOT_INSTALLED', `no installed model with id ${id}`);
    const settings = this.#options.settings.current;
    const llama = await this.#llama();
    const plan = await planModelFit({
      modelPath: model.modelPath,
      mmprojPath: model.mmprojPath,
      gpuLayers: settings.gpuLayers,
      contextSize: settings.contextSize,
      ...(llama ? { llama } : {}),
    });
    return {
      gpuLayers: plan.gpuLayers,
      totalLayers: plan.totalLayers,
      contextSize: plan.contextSize,
      expectedRamBytes: plan.expectedRamBytes,
      expectedVramBytes: plan.expectedVramBytes,
      fits: plan.fits,
      problems: plan.problems,
    };
  }

  /** node-llama-cpp's view of the GPU, for the plan; undefined where it cannot load (CPU plan). */
  #llama(): Promise<Llama | undefined> {
    this.#llamaInstance ??= getLlama({ gpu: 'auto', build: 'never' }).catch(() => undefined);
    return this.#llamaInstance;
  }

  async list(): Promise<ModelsState> {
    const catalog = await this.catalog();
    const { installed, incomplete } = await listModels(this.#options.modelsDir);
    const installedIds = new Set(installed.flatMap((m) => [m.id, m.manifest.catalogId ?? m.id]));
    const ram = totalmem();
    const catalogModels: ApiCatalogModel[] = catalog.models.map((entry) => ({
      id: entry.id,
      displayName: entry.displayName,
      family: entry.family,
      parameters: entry.parameters,
      quantization: entry.quantization,
      sizeBytes: entry.files.reduce((sum, f) => sum + f.sizeBytes, 0),
      license: entry.license,
      isDefault: entry.default === true,
      lowMemory: entry.lowMemory === true,
      bundled: isBundledPair(entry.files),
      ...(entry.description !== undefined ? { description: entry.description } : {}),
      installed: installedIds.has(entry.id),
      cpuRamBytes: entry.memory.cpuRamBytes,
      fitsMachine: ram >= entry.memory.minTotalRamBytes,
    }));
    const downloads: ApiDownload[] = [];
    for (const [id, run] of this.#downloads) {
      downloads.push({
        id,
        displayName: run.displayName,
        state: run.state,
        ...(run.progress ? { progress: run.progress } : {}),
        ...(run.error ? { error: run.error } : {}),
      });
    }
    for (const partial of incomplete) {
      if (this.#downloads.has(partial.id)) continue;
      const entry = findCatalogEntry(catalog, partial.id);
      const total = entry?.files.reduce((sum, f) => sum + f.sizeBytes, 0);
      downloads.push({
        id: partial.id,
        displayName: entry?.displayName ?? partial.id,
        state: 'paused',
        progress: {
          doneBytes: partial.partialBytes,
          ...(total !== undefined ? { totalBytes: total } : {}),
          bytesPerSecond: 0,
        },
      });
    }
    const active = await this.#options.engine.activeModel();
    return {
      installed: installed.map(toApiModel),
      catalog: catalogModels,
      downloads,
      defaultCatalogId: catalog.models.find((m) => m.default === true)?.id ?? '',
      ...(active ? { activeModelId: active.id } : {}),
    };
  }

  async download(catalogId: string): Promise<{ id: string }> {
    const catalog = await this.catalog();
    const entry = findCatalogEntry(catalog, catalogId);
    if (!entry) {
      throw new LlavaDeskError('MODEL_NOT_FOUND', `${catalogId} is not in the model catalog`);
    }
    const current = this.#downloads.get(entry.id);
    if (current?.state === 'running') return { id: entry.id };
    const { events } = this.#options;
    const run: RunningDownload = {
      displayName: entry.displayName,
      state: 'running',
      handle: startPull({
        source: entry.id,
        modelsDir: this.#options.modelsDir,
        catalog,
        hfBaseUrl: this.#options.hfBaseUrl,
        appRoot: appRootOf(this.#options.catalogPath ?? DEFAULT_CATALOG_PATH),
        ...(this.#options.hfToken !== undefined ? { token: this.#options.hfToken } : {}),
        download: {
          progressIntervalMs: 250,
          ...(this.#options.retry ? { retry: this.#options.retry } : {}),
        },
        onEvent: (event) => {
          if (event.type !== 'progress') return;
          const { doneBytes, totalBytes, bytesPerSecond, etaSeconds } = event.overall;
          run.progress = {
            doneBytes,
            bytesPerSecond,
            ...(totalBytes !== undefined ? { totalBytes } : {}),
            ...(etaSeconds !== undefined ? { etaSeconds } : {}),
          };
          events.emit('models.progress', { id: entry.id, progress: run.progress });
        },
      }),
    };
    this.#downloads.set(entry.id, run);
    events.emit('models.download', { id: entry.id, state: 'running' });
    events.emit('models.changed', {});
    void run.handle.result.then(
      async () => {
        this.#downloads.delete(entry.id);
        events.emit('models.download', { id: entry.id, state: 'done' });
        await this.#activeChanged();
      },
      (error: unknown) => {
        const serialized = serializeError(error);
        if (serialized.code === 'DOWNLOAD_CANCELLED') {
          this.#downloads.delete(entry.id);
          events.emit('models.download', { id: entry.id, state: 'paused' });
        } else {
          run.state = 'failed';
          run.error = serialized;
          events.emit('models.download', { id: entry.id, state: 'failed', error: serialized });
        }
        events.emit('models.changed', {});
      },
    );
    return { id: entry.id };
  }

  async cancelDownload(id: string, keepPartial = true): Promise<void> {
    const run = this.#downloads.get(id);
    if (run) {
      await run.handle.cancel({ keepPartial });
      this.#downloads.delete(id);
    }
    if (!keepPartial) {
      await removeModel(this.#options.modelsDir, id).catch(() => undefined);
    }
    this.#options.events.emit('models.changed', {});
  }

  async delete(id: string): Promise<void> {
    this.#options.engine.assertNotInUse(id);
    if (this.#downloads.has(id)) await this.cancelDownload(id, false);
    const active = await this.#options.engine.activeModel();
    if (active?.id === id) this.#options.engine.unload();
    await removeModel(this.#options.modelsDir, id);
    if (this.#options.settings.current.modelId === id) {
      await this.#options.settings.update({}, ['modelId']);
    }
    await this.#activeChanged();
  }

  async import(path: string, mmprojPath?: string): Promise<ApiInstalledModel> {
    const model = await importModel({
      path,
      modelsDir: this.#options.modelsDir,
      ...(mmprojPath !== undefined && mmprojPath !== '' ? { mmprojPath } : {}),
    });
    await this.#activeChanged();
    return toApiModel(model);
  }

  /** Stops downloads (partial files stay for a later resume). */
  async dispose(): Promise<void> {
    await Promise.all(
      [...this.#downloads.values()].map((run) => run.handle.cancel({ keepPartial: true })),
    );
  }

  async #activeChanged(): Promise<void> {
    this.#options.onActiveChanged();
    this.#options.events.emit('models.changed', {});
    await this.#options.engine.refresh();
  }
}

function toApiModel(model: InstalledModel): ApiInstalledModel {
  return {
    id: model.id,
    displayName: model.manifest.displayName,
    source: model.manifest.source,
    sizeBytes: model.sizeBytes,
    ...(model.manifest.family !== undefined ? { family: model.manifest.family } : {}),
    ...(model.manifest.catalogId !== undefined ? { catalogId: model.manifest.catalogId } : {}),
  };
}
