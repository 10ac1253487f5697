/**
 * The API contract between the renderer and the core: every renderer-to-core method (name, zod
 * schema of its params, type of its result) and every core-to-renderer event (name, zod schema of
 * its payload). The Electron preload and web mode (a WebSocket) serve this same contract.
 *
 * - The core validates params at the boundary with `METHOD_PARAMS[name]` (see
 *   src-main/app/dispatch.ts); the renderer imports types only.
 * - Every call answers with an `ApiResponse`: `{ok: true, value}` or `{ok: false, error}` where the
 *   error is the serialisable `{code, message}`.
 * - A preload can expose the API generically: `invoke(method, params)` for the names in
 *   `API_METHODS` and `on(event, listener)` for the names in `API_EVENTS`.
 *
 * Stable: changes are additive only (new methods, new events, new optional fields).
 */
import { z } from 'zod';
import type { AskResult, AskStats, StopReason } from './engine.js';
import type { SerializedError } from './errors.js';

export type { SerializedError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Shared value types
// ---------------------------------------------------------------------------------------------

const chatId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a conversation id');
const messageId = z.string().min(1).max(128);
const imageId = z.string().regex(/^[0-9a-f]{64}$/, 'an image id (sha256 hex)');
const modelId = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a model id');
const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'bytes (Uint8Array)');

export const detailSchema = z.enum(['standard', 'high']);
export type Detail = z.infer<typeof detailSchema>;

/** An image of a message: kept in the content-addressed image store, referenced by id. */
export interface ApiImageRef {
  id: string;
  width: number;
  height: number;
  mime: string;
  name?: string;
}

export interface ApiAnswerStats {
  imageEncodeMs: number;
  imageTokens: number;
  promptTokens: number;
  promptMs: number;
  generatedTokens: number;
  tokensPerSecond: number;
  timeToFirstTokenMs: number;
}

export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';

export interface ApiMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  images: ApiImageRef[];
  createdAt: number;
  /** `streaming` while written; `stopped` (partial text kept) after Stop or a quit; `error`. */
  status: MessageStatus;
  error?: { code: string; message: string };
  stats?: ApiAnswerStats;
  short?: boolean;
  detail?: Detail;
}

export interface ApiConversationSummary {
  id: string;
  title: string;
  updatedAt: number;
  messageCount: number;
}

export interface ApiConversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  modelId?: string;
  system?: string;
  messages: ApiMessage[];
}

export interface Settings {
  /** CPU threads for generation; 'auto' lets the engine decide. */
  threads: 'auto' | number;
  gpuLayers: 'auto' | number;
  contextSize: 'auto' | number;
  /** 0 = greedy. */
  temperature: number;
  maxTokens: number;
  /** Empty: the model template's own system prompt. */
  systemPrompt: string;
  /**
   * Minutes without any engine work after which the model unloads (like Ollama's keep-alive); it
   * loads again at the next request. 0 = never.
   */
  idleUnloadMinutes: number;
  /** The model chats use; undefined until one is chosen (or the only installed one is used). */
  modelId?: string;
}

const autoOrInt = (min: number, max: number) =>
  z.union([z.literal('auto'), z.number().int().min(min).max(max)]);

export const settingsPatchSchema = z
  .object({
    threads: autoOrInt(1, 256),
    gpuLayers: autoOrInt(0, 1000),
    contextSize: autoOrInt(256, 1_048_576),
    temperature: z.number().min(0).max(5),
    maxTokens: z.number().int().min(1).max(32_768),
    systemPrompt: z.string().max(20_000),
    idleUnloadMinutes: z.number().min(0).max(10_080),
    modelId: modelId,
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** An image the core has read, checked and stored; what the composer shows before sending. */
export interface AddedImage {
  ref: ApiImageRef;
  /** Image tokens the encoder uses for this image at each detail level. */
  tokens: Record<Detail, number>;
  /** Whether the token counts are the runtime's own (false: an estimate). */
  tokensExact: boolean;
}

export interface DownloadProgress {
  doneBytes: number;
  totalBytes?: number;
  bytesPerSecond: number;
  etaSeconds?: number;
}

export interface ApiInstalledModel {
  id: string;
  displayName: string;
  family?: string;
  source: 'catalog' | 'url' | 'import';
  sizeBytes: number;
  catalogId?: string;
}

export interface ApiCatalogModel {
  id: string;
  displayName: string;
  family: string;
  parameters: string;
  quantization: string;
  sizeBytes: number;
  license: string;
  isDefault: boolean;
  lowMemory: boolean;
  installed: boolean;
  /** RAM it needs on the CPU, estimated. */
  cpuRamBytes: number;
  /** Whether this machine has at least the entry's minimum RAM. */
  fitsMachine: boolean;
}

export type DownloadState = 'running' | 'paused' | 'failed';

export interface ApiDownload {
  id: string;
  displayName: string;
  state: DownloadState;
  progress?: DownloadProgress;
  error?: SerializedError;
}

export interface ModelsState {
  installed: ApiInstalledModel[];
  catalog: ApiCatalogModel[];
  /** Downloads running now or left unfinished (resumable). */
  downloads: ApiDownload[];
  defaultCatalogId: string;
  /** The model chats use now (settings, or the only installed one). */
  activeModelId?: string;
}

/** The load plan shown before loading (GgufInsights, counting the projector). */
export interface ModelFitPlan {
  gpuLayers: number;
  totalLayers: number;
  contextSize: number;
  expectedRamBytes: number;
  expectedVramBytes: number;
  fits: boolean;
  /** Why it does not fit (empty when it does). */
  problems: string[];
}

export type EngineState = 'none' | 'idle' | 'loading' | 'ready' | 'error';

export interface EngineStatus {
  /** none: no model installed/chosen; idle: chosen, loads on first use; error: the load failed. */
  state: EngineState;
  modelId?: string;
  displayName?: string;
  error?: SerializedError;
  /** With state idle: the model was loaded and unloaded after `idleUnloadMinutes` without work. */
  unloadedIdle?: boolean;
  /** After a load: what the engine runs with. */
  info?: { variant: string; gpu: string | false; gpuLayers: number; contextSize: number };
}

export interface AppInfo {
  version: string;
  dataDir: string;
  /** 'web' when served by `llava-desk serve`, 'electron' in the desktop app. */
  mode: 'web' | 'electron';
  platform: string;
  /** Whether `dialog.pickFolder` has a native chooser to show (the desktop app). */
  canPickFolder: boolean;
}

export interface SendResult {
  user: ApiMessage;
  /** The answer, `streaming`; its text arrives as `chats.token` events. */
  answer: ApiMessage;
}

/** Batch jobs (describe a folder; see docs/BATCH.md). */
export const batchPresetSchema = z.enum(['caption', 'detailed', 'keywords', 'alt-text']);
export const batchOutputSchema = z.enum(['txt', 'jsonl', 'csv', 'xmp']);
export type BatchPreset = z.infer<typeof batchPresetSchema>;
export type BatchOutput = z.infer<typeof batchOutputSchema>;
/** photo.jpg.xmp (darktable, digiKam) or photo.xmp (Lightroom, Capture One). */
export const batchXmpNameSchema = z.enum(['photo.jpg.xmp', 'photo.xmp']);
export type BatchXmpName = z.infer<typeof batchXmpNameSchema>;
export const batchKeywordCaseSchema = z.enum(['as-is', 'lower', 'title']);
export type BatchKeywordCase = z.infer<typeof batchKeywordCaseSchema>;

/** How the `keywords` preset's answers become catalogue keywords (docs/BATCH.md). */
export const batchKeywordsSchema = z
  .object({
    case: batchKeywordCaseSchema.optional(),
    max: z.number().int().min(1).max(200).optional(),
    /** Words never kept. */
    exclude: z.array(z.string().trim().min(1).max(200)).max(10_000).optional(),
    /** A controlled vocabulary's text: one keyword a line, or a Lightroom keyword export. */
    vocabulary: z.string().max(4_000_000).optional(),
    /** Parent keyword of lr:hierarchicalSubject entries (`a|b` nests). */
    hierarchy: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

export type BatchItemState = 'queued' | 'running' | 'done' | 'failed' | 'skipped';

/** One image of a batch job; `path` is relative to the folder, `/`-separated. */
export interface BatchItem {
  path: string;
  state: BatchItemState;
  /** The description (done, or skipped as already described). */
  text?: string;
  /** Why it failed (a code of the imaging or engine step and a readable message). */
  error?: { code: string; message: string };
  /** A small preview, sent once when the image starts. */
  thumbnail?: { mime: string; data: Uint8Array };
}

export interface BatchProgress {
  total: number;
  described: number;
  skipped: number;
  failed: number;
  remaining: number;
  perMinute: number;
  etaSeconds?: number;
}

/** `pausing`: asked to pause, finishing what is already generated; `paused`: holding. */
export type BatchState =
  'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'finished' | 'error';

export interface BatchSummary {
  described: number;
  skipped: number;
  failed: number;
  cancelled: boolean;
  ms: number;
}

/** The one batch job of the app (the latest), as the Batch view shows it. */
export interface BatchStatus {
  state: BatchState;
  jobId?: string;
  folder?: string;
  progress: BatchProgress;
  items: BatchItem[];
  summary?: BatchSummary;
  error?: SerializedError;
}

// ---------------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------------

const empty = z.object({}).strict();

const sendOptions = {
  short: z.boolean().optional(),
  detail: detailSchema.optional(),
};

/** Params schemas of every renderer-to-core method. */
export const METHOD_PARAMS = {
  'app.info': empty,
  'settings.get': empty,
  'settings.update': settingsPatchSchema,
  'chats.list': z.object({ query: z.string().max(500).optional() }).strict(),
  'chats.get': z.object({ id: chatId }).strict(),
  'chats.create': z.object({ title: z.string().max(200).optional() }).strict(),
  'chats.rename': z.object({ id: chatId, title: z.string().trim().min(1).max(200) }).strict(),
  'chats.delete': z.object({ id: chatId }).strict(),
  'chats.send': z
    .object({
      conversationId: chatId,
      text: z.string().max(100_000),
      images: z.array(imageId).max(16).default([]),
      ...sendOptions,
    })
    .strict(),
  'chats.stop': z.object({ conversationId: chatId }).strict(),
  'chats.regenerate': z.object({ conversationId: chatId }).strict(),
  'chats.edit': z
    .object({
      conversationId: chatId,
      /** The user message to replace; it and everything after it are dropped. */
      messageId,
      text: z.string().max(100_000),
      /** Default: the images the message had. */
      images: z.array(imageId).max(16).optional(),
      ...sendOptions,
    })
    .strict(),
  'images.add': z
    .object({
      name: z.string().max(500),
      data: bytes,
    })
    .strict(),
  'images.thumbnail': z.object({ id: imageId }).strict(),
  'models.list': empty,
  /** Starts (or resumes) downloading a catalog entry. */
  'models.download': z.object({ catalogId: modelId }).strict(),
  /** Stops a download; `keepPartial` (default true) keeps what arrived, so it can resume. */
  'models.cancelDownload': z.object({ id: modelId, keepPartial: z.boolean().optional() }).strict(),
  'models.delete': z.object({ id: modelId }).strict(),
  /** Imports a GGUF pair from this machine's disk (the projector is found next to it if absent). */
  'models.import': z
    .object({ path: z.string().min(1).max(4096), mmprojPath: z.string().max(4096).optional() })
    .strict(),
  /** Makes a model the one chats use and loads it. */
  'models.select': z.object({ id: modelId }).strict(),
  /** How an installed model would be loaded on this machine with the current settings. */
  'models.plan': z.object({ id: modelId }).strict(),
  'engine.status': empty,
  /** Starts describing a folder (one job at a time); a folder described before continues. */
  'batch.start': z
    .object({
      folder: z.string().min(1).max(4096),
      recursive: z.boolean().optional(),
      prompt: z.string().trim().min(1).max(4000).optional(),
      preset: batchPresetSchema.optional(),
      outputs: z.array(batchOutputSchema).min(1).max(4).optional(),
      existing: z.enum(['ask', 'skip', 'overwrite']).optional(),
      /** Default: the XMP name already next to each image, else photo.jpg.xmp. */
      xmpName: batchXmpNameSchema.optional(),
      /** Also write the description and keywords into the image files. */
      embed: z.boolean().optional(),
      /** With `embed`: keep each original as photo.jpg_original (default true). */
      backup: z.boolean().optional(),
      /** Only with the `keywords` preset. */
      keywords: batchKeywordsSchema.optional(),
      short: z.boolean().optional(),
      detail: detailSchema.optional(),
      maxTokens: z.number().int().min(1).max(4096).optional(),
      /** Default: the settings' temperature. */
      temperature: z.number().min(0).max(5).optional(),
      seed: z.number().int().min(0).optional(),
      /** Image extensions to take (default: common photo formats). */
      extensions: z
        .array(z.string().regex(/^[a-z0-9]{1,10}$/, 'an extension'))
        .min(1)
        .max(50)
        .optional(),
      /** When given, must be the active model's files (MODEL_BUSY otherwise). */
      modelPath: z.string().min(1).max(4096).optional(),
      mmprojPath: z.string().min(1).max(4096).optional(),
    })
    .strict(),
  'batch.pause': empty,
  'batch.resume': empty,
  /** Stops the job; starting the same folder again continues where it stopped. */
  'batch.cancel': empty,
  'batch.status': empty,
  /** The system's folder chooser (desktop app only: web mode answers NOT_IMPLEMENTED). */
  'dialog.pickFolder': z.object({ title: z.string().max(200).optional() }).strict(),
  /**
   * One question about image files on this machine, outside any chat (`llava-desk ask` attached
   * to a running server): answered by the loaded model, streamed as `engine.token` events with
   * the caller's `askId`. `modelPath`/`mmprojPath`, when given, must be the active model's
   * (MODEL_BUSY otherwise: the server never loads a second model for it).
   */
  'engine.ask': z
    .object({
      askId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'an ask id'),
      images: z.array(z.string().min(1).max(4096)).max(16),
      prompt: z.string().max(100_000),
      system: z.string().max(20_000).optional(),
      /** The prompt verbatim, each `<image>` replaced by the next image. */
      raw: z.boolean().optional(),
      short: z.boolean().optional(),
      detail: detailSchema.default('standard'),
      imagePrep: z.enum(['app', 'runtime']).default('app'),
      maxTokens: z.number().int().min(1).max(32_768),
      temperature: z.number().min(0).max(5),
      seed: z.number().int().min(0).optional(),
      modelPath: z.string().min(1).max(4096).optional(),
      mmprojPath: z.string().min(1).max(4096).optional(),
    })
    .strict(),
} as const;

/** Result types of every method, by name. */
export interface MethodResults {
  'app.info': AppInfo;
  'settings.get': Settings;
  'settings.update': Settings;
  'chats.list': ApiConversationSummary[];
  'chats.get': ApiConversation;
  'chats.create': ApiConversation;
  'chats.rename': ApiConversationSummary;
  'chats.delete': Record<string, never>;
  'chats.send': SendResult;
  'chats.stop': { stopped: boolean };
  'chats.regenerate': { answer: ApiMessage };
  'chats.edit': SendResult;
  'images.add': AddedImage;
  'images.thumbnail': { mime: string; data: Uint8Array };
  'models.list': ModelsState;
  'models.download': { id: string };
  'models.cancelDownload': Record<string, never>;
  'models.delete': Record<string, never>;
  'models.import': ApiInstalledModel;
  'models.select': EngineStatus;
  'models.plan': ModelFitPlan;
  'engine.status': EngineStatus;
  'batch.start': BatchStatus;
  'batch.pause': BatchStatus;
  'batch.resume': BatchStatus;
  'batch.cancel': BatchStatus;
  'batch.status': BatchStatus;
  /** `null` when the chooser was cancelled. */
  'dialog.pickFolder': { path: string | null };
  'engine.ask': AskResult;
}

export type MethodName = keyof typeof METHOD_PARAMS;
/** Params as the caller writes them (defaults optional). */
export type MethodParams<M extends MethodName> = z.input<(typeof METHOD_PARAMS)[M]>;
/** Params as the core receives them after validation (defaults applied). */
export type ParsedParams<M extends MethodName> = z.output<(typeof METHOD_PARAMS)[M]>;
export type MethodResult<M extends MethodName> = MethodResults[M];

export const API_METHODS = Object.keys(METHOD_PARAMS) as MethodName[];

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

const progressSchema = z.object({
  doneBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative().optional(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().optional(),
});

const errorSchema = z.object({ code: z.string(), message: z.string() });

/**
 * Payload schemas of every core-to-renderer event. Chat and model types are kept loose here
 * (`z.custom`) because the core produces them; the schemas document the envelope and let a
 * transport check it.
 */
export const EVENT_PAYLOADS = {
  /** A piece of an answer being written. */
  'chats.token': z.object({
    conversationId: z.string(),
    messageId: z.string(),
    text: z.string(),
  }),
  /** A message changed: an answer ended (complete, stopped, error) or a partial save. */
  'chats.message': z.object({
    conversationId: z.string(),
    message: z.custom<ApiMessage>((v) => typeof v === 'object' && v !== null),
  }),
  /** The list of conversations changed (created, renamed, titled, deleted). */
  'chats.changed': z.object({ conversationId: z.string().optional() }),
  /** Download progress of one model, at most a few times a second. */
  'models.progress': z.object({ id: z.string(), progress: progressSchema }),
  /** A download ended or changed state. */
  'models.download': z.object({
    id: z.string(),
    state: z.enum(['running', 'done', 'paused', 'failed']),
    error: errorSchema.optional(),
  }),
  /** Installed models or the catalog state changed; fetch `models.list` again. */
  'models.changed': z.object({}),
  'engine.status': z.custom<EngineStatus>((v) => typeof v === 'object' && v !== null),
  /** The batch job's state and counts changed (at most a few times a second, and at its end). */
  'batch.progress': z.object({
    state: z.enum(['idle', 'starting', 'running', 'pausing', 'paused', 'finished', 'error']),
    jobId: z.string().optional(),
    folder: z.string().optional(),
    progress: z.custom<BatchProgress>((v) => typeof v === 'object' && v !== null),
    summary: z.custom<BatchSummary>((v) => typeof v === 'object' && v !== null).optional(),
    error: errorSchema.optional(),
  }),
  /** A piece of an `engine.ask` answer (as the model wrote it: a leading space is kept). */
  'engine.token': z.object({ askId: z.string(), text: z.string() }),
  /** One image of the batch job changed (queued, started with its thumbnail, done, failed). */
  'batch.item': z.object({
    jobId: z.string(),
    item: z.custom<BatchItem>((v) => typeof v === 'object' && v !== null),
  }),
} as const;

export type EventName = keyof typeof EVENT_PAYLOADS;
export type EventPayload<E extends EventName> = z.output<(typeof EVENT_PAYLOADS)[E]>;

export const API_EVENTS = Object.keys(EVENT_PAYLOADS) as EventName[];

// ---------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------

/** What every call answers, on both transports. */
export type ApiResponse<T = unknown> =
  { ok: true; value: T } | { ok: false; error: SerializedError };

/**
 * The surface the Electron preload exposes as `window.llavaDesk` (contextBridge). Generic on
 * purpose: the preload forwards only names in API_METHODS / API_EVENTS.
 */
export interface PreloadBridge {
  invoke(method: string, params: unknown): Promise<ApiResponse>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on(event: string, listener: (payload: unknown) => void): () => void;
  platform: string;
  /** Electron's webUtils.getPathForFile, for dropped files (optional). */
  getPathForFile?(file: File): string;
}

/** Web mode: messages over the WebSocket (JSON, Uint8Array values tagged `{$bytes: base64}`). */
export type WireClientMessage = { type: 'call'; id: number; method: string; params: unknown };
/** `id: null` answers a message that was not a readable call (no id to answer to). */
export type WireServerMessage =
  | ({ type: 'result'; id: number | null } & ApiResponse)
  | { type: 'event'; name: string; payload: unknown };

/** The WebSocket path in web mode, and the subprotocols (the token travels as the second). */
export const WS_PATH = '/api/ws';
export const WS_PROTOCOL = 'llava-desk.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'token.';

/** Types re-exported for the renderer's convenience. */
export type { AskStats, StopReason };
