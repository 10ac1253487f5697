import { readFileSync } from 'node:fs';
import type {
  AppInfo,
  EventName,
  MethodName,
  MethodResult,
  ParsedParams,
  Settings,
} from '../api/contract.js';
import { ChatStore } from '../chats/chat-store.js';
import { ensureDataLayout } from '../common/data-dir.js';
import { LlavaDeskError } from '../common/errors.js';
import type { StoreFs } from '../common/store-fs.js';
import type { WorkerLauncher } from '../engine/process/worker-channel.js';
import type { RetryPolicy } from '../models/download/retry-policy.js';
import { AskService } from './ask-service.js';
import { BatchService } from './batch-service.js';
import { ChatService } from './chat-service.js';
import { EngineHost } from './engine-host.js';
import { CoreEvents } from './events.js';
import { ImageService } from './image-service.js';
import { ModelService } from './model-service.js';
import { SettingsStore } from './settings-store.js';

export interface AppCoreOptions {
  dataDir: string;
  mode: AppInfo['mode'];
  /** Hub base for `hf:` URIs of the catalog (tests point it at a local server). */
  hfBaseUrl: string;
  hfToken?: string;
  /** Default: models/catalog.json of the package. */
  catalogPath?: string;
  downloadRetry?: Partial<RetryPolicy>;
  /** Starts the engine process (default: child_process.fork of the engine worker). */
  engineLauncher?: () => WorkerLauncher;
  /** The file-system calls of the chat, image and settings stores (tests inject disk faults). */
  storeFs?: StoreFs;
  /** The system's folder chooser: the folder picked, undefined when cancelled (desktop only). */
  pickFolder?: (title: string) => Promise<string | undefined>;
  /**
   * Applies settings the core does not own (the desktop's local API server) before they are
   * saved; a rejection refuses the update (e.g. the port is taken) and nothing is saved.
   */
  applySettings?: (next: Settings) => Promise<void>;
}

type Handlers = { [M in MethodName]: (params: ParsedParams<M>) => Promise<MethodResult<M>> };

const VERSION = readVersion();

/**
 * The core services of the app composed once: chats, images, models, the engine and settings,
 * behind the methods and events of the API contract (src-main/api/contract.ts). Web mode serves it
 * over a WebSocket, the Electron shell over IPC; neither adds logic of its own.
 */
export class AppCore {
  readonly events = new CoreEvents();
  readonly dataDir: string;
  readonly #options: AppCoreOptions;
  readonly #settings: SettingsStore;
  readonly #chats: ChatService;
  readonly #models: ModelService;
  readonly #engine: EngineHost;
  readonly #images: ImageService;
  readonly #store: ChatStore;
  readonly #batch: BatchService;
  readonly #asks: AskService;
  readonly handlers: Handlers;

  private constructor(
    options: AppCoreOptions,
    layout: Awaited<ReturnType<typeof ensureDataLayout>>,
  ) {
    this.#options = options;
    this.dataDir = layout.root;
    this.#settings = new SettingsStore(layout.settingsFile, options.storeFs);
    this.#store = new ChatStore(layout.chats, options.storeFs ? { fs: options.storeFs } : {});
    // The engine asks the model service for the catalog default; both are built here.
    const late: { models?: ModelService } = {};
    this.#engine = new EngineHost({
      modelsDir: layout.models,
      settings: this.#settings,
      events: this.events,
      defaultCatalogId: () => late.models?.defaultCatalogId() ?? Promise.resolve(undefined),
      startupMemoPath: layout.engineStartFile,
      ...(options.engineLauncher ? { launcher: options.engineLauncher } : {}),
    });
    this.#images = new ImageService(
      layout.images,
      async () => (await this.#engine.activeModel())?.mmprojPath,
      options.storeFs,
    );
    const models = new ModelService({
      modelsDir: layout.models,
      hfBaseUrl: options.hfBaseUrl,
      ...(options.hfToken !== undefined ? { hfToken: options.hfToken } : {}),
      ...(options.catalogPath !== undefined ? { catalogPath: options.catalogPath } : {}),
      ...(options.downloadRetry ? { retry: options.downloadRetry } : {}),
      events: this.events,
      settings: this.#settings,
      engine: this.#engine,
      onActiveChanged: () => this.#images.forgetEncoder(),
    });
    late.models = models;
    this.#models = models;
    this.#chats = new ChatService({
      store: this.#store,
      images: this.#images,
      engine: this.#engine,
      settings: this.#settings,
      events: this.events,
    });
    this.#batch = new BatchService({
      dataDir: layout.root,
      engine: this.#engine,
      settings: this.#settings,
      events: this.events,
    });
    this.#asks = new AskService({ engine: this.#engine, events: this.events });
    this.handlers = this.#handlers();
  }

  /** Opens the data folder: answers left streaming by a crash become `stopped`. */
  static async open(options: AppCoreOptions): Promise<AppCore> {
    const layout = await ensureDataLayout(options.dataDir);
    const core = new AppCore(options, layout);
    await core.#settings.open();
    await core.#store.open();
    await core.#engine.refresh();
    return core;
  }

  call<M extends MethodName>(method: M, params: ParsedParams<M>): Promise<MethodResult<M>> {
    return this.handlers[method](params);
  }

  subscribe(listener: (name: EventName, payload: unknown) => void): () => void {
    return this.events.subscribe(listener);
  }

  /** The engine the chats use, shared with the local HTTP API (src-main/server/app-api-backend.ts). */
  get engine(): EngineHost {
    return this.#engine;
  }

  get version(): string {
    return VERSION;
  }

  /** Stops answers (keeping their partial text), pauses downloads, ends the engine process. */
  async close(): Promise<void> {
    await this.#chats.close();
    this.#batch.dispose();
    await this.#models.dispose();
    this.#engine.dispose();
  }

  #handlers(): Handlers {
    const chats = this.#chats;
    const models = this.#models;
    const ok = {} as Record<string, never>;
    return {
      'app.info': async () => ({
        version: VERSION,
        dataDir: this.dataDir,
        mode: this.#options.mode,
        platform: process.platform,
        canPickFolder: this.#options.pickFolder !== undefined,
      }),
      'settings.get': async () => this.#settings.current,
      'settings.update': async (patch) => {
        if (patch.modelId !== undefined) this.#engine.assertCanSwitch(patch.modelId);
        const before = this.#settings.current;
        await this.#options.applySettings?.({ ...before, ...patch });
        const next = await this.#settings.update(patch).catch(async (error: unknown) => {
          // Not saved (a full or read-only disk): what was applied goes back as it was.
          await this.#options.applySettings?.(before).catch(() => undefined);
          throw error;
        });
        if ('modelId' in patch) this.#images.forgetEncoder();
        await this.#engine.refresh();
        return next;
      },
      'chats.list': (p) => chats.list(p.query),
      'chats.get': (p) => chats.get(p.id),
      'chats.create': (p) => chats.create(p.title),
      'chats.rename': (p) => chats.rename(p.id, p.title),
      'chats.delete': async (p) => {
        await chats.delete(p.id);
        return ok;
      },
      'chats.send': (p) => chats.send(p.conversationId, p),
      'chats.stop': async (p) => ({ stopped: await chats.stop(p.conversationId) }),
      'chats.regenerate': (p) => chats.regenerate(p.conversationId),
      'chats.edit': async (p) => {
        const images =
          p.images ??
          (await chats.get(p.conversationId)).messages
            .find((m) => m.id === p.messageId)
            ?.images.map((i) => i.id) ??
          [];
        return chats.edit(p.conversationId, p.messageId, { ...p, images });
      },
      'images.add': (p) => this.#images.add(p.name, p.data),
      'images.thumbnail': (p) => this.#images.thumbnail(p.id),
      'models.list': () => models.list(),
      'models.plan': (p) => models.plan(p.id),
      'models.download': (p) => models.download(p.catalogId),
      'models.cancelDownload': async (p) => {
        await models.cancelDownload(p.id, p.keepPartial ?? true);
        return ok;
      },
      'models.delete': async (p) => {
        await models.delete(p.id);
        return ok;
      },
      'models.import': (p) => models.import(p.path, p.mmprojPath),
      'models.select': async (p) => {
        const { installed } = await models.list();
        if (!installed.some((m) => m.id === p.id)) {
          throw new LlavaDeskError('MODEL_NOT_INSTALLED', `no installed model with id ${p.id}`);
        }
        this.#engine.assertCanSwitch(p.id);
        await this.#settings.update({ modelId: p.id });
        this.#images.forgetEncoder();
        await this.#engine.refresh();
        this.events.emit('models.changed', {});
        void this.#engine.ensureLoaded().catch(() => undefined);
        return this.#engine.status;
      },
      'engine.status': () => this.#engine.refresh(),
      'engine.ask': (p) => this.#asks.ask(p),
      'batch.start': (p) => this.#batch.start(p),
      'batch.pause': async () => this.#batch.pause(),
      'batch.resume': async () => this.#batch.resume(),
      'batch.cancel': async () => this.#batch.cancel(),
      'batch.status': async () => this.#batch.status,
      'dialog.pickFolder': async ({ title }) => {
        const pick = this.#options.pickFolder;
        if (!pick) {
          throw new LlavaDeskError(
            'NOT_IMPLEMENTED',
            'This window cannot show a folder chooser: type the folder’s path.',
          );
        }
        return { path: (await pick(title ?? 'Choose a folder')) ?? null };
      },
    };
  }
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
