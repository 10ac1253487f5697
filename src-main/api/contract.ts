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
import type { AskStats, StopReason } from './engine.js';
import { ERROR_CODES, type SerializedError } from './errors.js';
import type { Result } from './result.js';

export type { SerializedError } from './errors.js';
export type { Err, Ok, Result } from './result.js';

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

/** `{code, message}` of an error from the core (one of ERROR_CODES). */
export const serializedErrorSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string() });
/** A failure stored with data written before this version (a message's, a batch item's). */
const storedErrorSchema = z.object({ code: z.string(), message: z.string() });

const count = z.number().int().nonnegative();
const amount = z.number().nonnegative();

/** An image of a message: kept in the content-addressed image store, referenced by id. */
export const imageRefSchema = z.object({
  id: z.string(),
  width: count,
  height: count,
  mime: z.string(),
  name: z.string().optional(),
});
export type ApiImageRef = z.infer<typeof imageRefSchema>;

export const answerStatsSchema = z.object({
  imageEncodeMs: amount,
  imageTokens: count,
  promptTokens: count,
  promptMs: amount,
  generatedTokens: count,
  tokensPerSecond: amount,
  timeToFirstTokenMs: amount,
});
export type ApiAnswerStats = z.infer<typeof answerStatsSchema>;

export const messageStatusSchema = z.enum(['complete', 'streaming', 'stopped', 'error']);
export type MessageStatus = z.infer<typeof messageStatusSchema>;

export const messageSchema = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  images: z.array(imageRefSchema),
  createdAt: z.number(),
  /** `streaming` while written; `stopped` (partial text kept) after Stop or a quit; `error`. */
  status: messageStatusSchema,
  error: storedErrorSchema.optional(),
  stats: answerStatsSchema.optional(),
  short: z.boolean().optional(),
  detail: detailSchema.optional(),
});
export type ApiMessage = z.infer<typeof messageSchema>;

export const conversationSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  updatedAt: z.number(),
  messageCount: count,
});
export type ApiConversationSummary = z.infer<typeof conversationSummarySchema>;

export const conversationSchema = z.object({
  id: z.string(),
  title: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  modelId: z.string().optional(),
  system: z.string().optional(),
  messages: z.array(messageSchema),
});
export type ApiConversation = z.infer<typeof conversationSchema>;

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
    /**
     * Minutes without any engine work after which the model unloads (like Ollama's keep-alive);
     * it loads again at the next request. 0 = never.
     */
    idleUnloadMinutes: z.number().min(0).max(10_080),
    /**
     * Answers the engine writes at once (chats, ask window, API requests), each in a sequence of
     * its own with `contextSize` tokens: memory for the context grows with it.
     */
    parallelAnswers: z.number().int().min(1).max(16),
    modelId: modelId,
    localApi: z.boolean(),
    localApiPort: z.number().int().min(1024).max(65_535),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/**
 * The settings as stored and answered: every field of the patch, all present but `modelId`
 * (undefined until one is chosen, or the only installed one is used). `threads`: CPU threads for
 * generation, 'auto' lets the engine decide; `temperature` 0 is greedy; an empty `systemPrompt`
 * keeps the model template's own.
 */
export const settingsSchema = settingsPatchSchema.required().partial({ modelId: true });
export type Settings = z.infer<typeof settingsSchema>;

/** An image the core has read, checked and stored; what the composer shows before sending. */
export const addedImageSchema = z.object({
  ref: imageRefSchema,
  /** Image tokens the encoder uses for this image at each detail level. */
  tokens: z.object({ standard: count, high: count }),
  /** Whether the token counts are the runtime's own (false: an estimate). */
  tokensExact: z.boolean(),
});
export type AddedImage = z.infer<typeof addedImageSchema>;

export const downloadProgressSchema = z.object({
  doneBytes: amount,
  totalBytes: amount.optional(),
  bytesPerSecond: amount,
  etaSeconds: amount.optional(),
});
export type DownloadProgress = z.infer<typeof downloadProgressSchema>;

export const installedModelSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  family: z.string().optional(),
  source: z.enum(['catalog', 'url', 'import']),
  sizeBytes: amount,
  catalogId: z.string().optional(),
});
export type ApiInstalledModel = z.infer<typeof installedModelSchema>;

export const catalogModelSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  family: z.string(),
  parameters: z.string(),
  quantization: z.string(),
  sizeBytes: amount,
  license: z.string(),
  isDefault: z.boolean(),
  lowMemory: z.boolean(),
  /** Shipped with the app: installed by a copy, no download. */
  bundled: z.boolean(),
  /** One line on what it is for (a demo says what it knows). */
  description: z.string().optional(),
  installed: z.boolean(),
  /** RAM it needs on the CPU, estimated. */
  cpuRamBytes: amount,
  /** Whether this machine has at least the entry's minimum RAM. */
  fitsMachine: z.boolean(),
});
export type ApiCatalogModel = z.infer<typeof catalogModelSchema>;

export const downloadStateSchema = z.enum(['running', 'paused', 'failed']);
export type DownloadState = z.infer<typeof downloadStateSchema>;

export const downloadSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  state: downloadStateSchema,
  progress: downloadProgressSchema.optional(),
  error: serializedErrorSchema.optional(),
});
export type ApiDownload = z.infer<typeof downloadSchema>;

export const modelsStateSchema = z.object({
  installed: z.array(installedModelSchema),
  catalog: z.array(catalogModelSchema),
  /** Downloads running now or left unfinished (resumable). */
  downloads: z.array(downloadSchema),
  defaultCatalogId: z.string(),
  /** The model chats use now (settings, or the only installed one). */
  activeModelId: z.string().optional(),
});
export type ModelsState = z.infer<typeof modelsStateSchema>;

/** The load plan shown before loading (GgufInsights, counting the projector). */
export const modelFitPlanSchema = z.object({
  gpuLayers: count,
  totalLayers: count,
  contextSize: count,
  expectedRamBytes: amount,
  expectedVramBytes: amount,
  fits: z.boolean(),
  /** Why it does not fit (empty when it does). */
  problems: z.array(z.string()),
});
export type ModelFitPlan = z.infer<typeof modelFitPlanSchema>;

export const engineStateSchema = z.enum(['none', 'idle', 'loading', 'ready', 'error']);
export type EngineState = z.infer<typeof engineStateSchema>;

export const engineStatusSchema = z.object({
  /** none: no model installed/chosen; idle: chosen, loads on first use; error: the load failed. */
  state: engineStateSchema,
  modelId: z.string().optional(),
  displayName: z.string().optional(),
  error: serializedErrorSchema.optional(),
  /** With state idle: the model was loaded and unloaded after `idleUnloadMinutes` without work. */
  unloadedIdle: z.boolean().optional(),
  /** After a load: what the engine runs with. */
  info: z
    .object({
      variant: z.string(),
      gpu: z.union([z.string(), z.literal(false)]),
      gpuLayers: count,
      contextSize: count,
    })
    .optional(),
});
export type EngineStatus = z.infer<typeof engineStatusSchema>;

export const appInfoSchema = z.object({
  version: z.string(),
  dataDir: z.string(),
  /** 'web' when served by `llava-desk serve`, 'electron' in the desktop app. */
  mode: z.enum(['web', 'electron']),
  platform: z.string(),
  /** Whether `dialog.pickFolder` has a native chooser to show (the desktop app). */
  canPickFolder: z.boolean(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

export const sendResultSchema = z.object({
  user: messageSchema,
  /** The answer, `streaming`; its text arrives as `chats.token` events. */
  answer: messageSchema,
});
export type SendResult = z.infer<typeof sendResultSchema>;

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

export const batchItemStateSchema = z.enum(['queued', 'running', 'done', 'failed', 'skipped']);
export type BatchItemState = z.infer<typeof batchItemStateSchema>;

/** One image of a batch job; `path` is relative to the folder, `/`-separated. */
export const batchItemSchema = z.object({
  path: z.string(),
  state: batchItemStateSchema,
  /** The description (done, or skipped as already described). */
  text: z.string().optional(),
  /** Why it failed (a code of the imaging or engine step and a readable message). */
  error: storedErrorSchema.optional(),
  /** A small preview, sent once when the image starts. */
  thumbnail: z.object({ mime: z.string(), data: bytes }).optional(),
});
export type BatchItem = z.infer<typeof batchItemSchema>;

export const batchProgressSchema = z.object({
  total: count,
  described: count,
  skipped: count,
  failed: count,
  remaining: count,
  perMinute: amount,
  etaSeconds: amount.optional(),
});
export type BatchProgress = z.infer<typeof batchProgressSchema>;

/** `pausing`: asked to pause, finishing what is already generated; `paused`: holding. */
export const batchStateSchema = z.enum([
  'idle',
  'starting',
  'running',
  'pausing',
  'paused',
  'finished',
  'error',
]);
export type BatchState = z.infer<typeof batchStateSchema>;

export const batchSummarySchema = z.object({
  described: count,
  skipped: count,
  failed: count,
  cancelled: z.boolean(),
  ms: amount,
});
export type BatchSummary = z.infer<typeof batchSummarySchema>;

/** The one batch job of the app (the latest), as the Batch view shows it. */
export const batchStatusSchema = z.object({
  state: batchStateSchema,
  jobId: z.string().optional(),
  folder: z.string().optional(),
  progress: batchProgressSchema,
  items: z.array(batchItemSchema),
  summary: batchSummarySchema.optional(),
  error: serializedErrorSchema.optional(),
});
export type BatchStatus = z.infer<typeof batchStatusSchema>;

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
   * to a running app or server): answered by the loaded model, streamed as `engine.token` events
   * with the caller's `askId`. `modelPath`/`mmprojPath`, when given, must be the active model's
   * (MODEL_BUSY otherwise: the app never loads a second model for it).
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

const nothing = z.object({}).strict();

/** An `engine.ask` answer: the engine's own result (text, token ids, why it stopped, timings). */
const askResultSchema = z.object({
  text: z.string(),
  tokens: z.array(z.number().int()),
  stopReason: z.enum(['eog', 'maxTokens', 'aborted', 'contextFull']),
  stats: z.custom<AskStats>((v) => typeof v === 'object' && v !== null),
});
const batchStatusResult = batchStatusSchema;

/** Result schemas of every method, by name (the core produces them; tests check it does). */
export const METHOD_RESULTS = {
  'app.info': appInfoSchema,
  'settings.get': settingsSchema,
  'settings.update': settingsSchema,
  'chats.list': z.array(conversationSummarySchema),
  'chats.get': conversationSchema,
  'chats.create': conversationSchema,
  'chats.rename': conversationSummarySchema,
  'chats.delete': nothing,
  'chats.send': sendResultSchema,
  'chats.stop': z.object({ stopped: z.boolean() }),
  'chats.regenerate': z.object({ answer: messageSchema }),
  'chats.edit': sendResultSchema,
  'images.add': addedImageSchema,
  'images.thumbnail': z.object({ mime: z.string(), data: bytes }),
  'models.list': modelsStateSchema,
  'models.download': z.object({ id: z.string() }),
  'models.cancelDownload': nothing,
  'models.delete': nothing,
  'models.import': installedModelSchema,
  'models.select': engineStatusSchema,
  'models.plan': modelFitPlanSchema,
  'engine.status': engineStatusSchema,
  'batch.start': batchStatusResult,
  'batch.pause': batchStatusResult,
  'batch.resume': batchStatusResult,
  'batch.cancel': batchStatusResult,
  'batch.status': batchStatusResult,
  /** `null` when the chooser was cancelled. */
  'dialog.pickFolder': z.object({ path: z.string().nullable() }),
  'engine.ask': askResultSchema,
} as const satisfies Record<keyof typeof METHOD_PARAMS, z.ZodType>;

/** Result types of every method, by name, derived from METHOD_RESULTS. */
export type MethodResults = {
  [M in keyof typeof METHOD_RESULTS]: z.output<(typeof METHOD_RESULTS)[M]>;
};

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

/**
 * Payload schemas of every core-to-renderer event, as checked as the method results: each is
 * the schema of what the core sends (a transport or a test can check a payload with it).
 */
export const EVENT_PAYLOADS = {
  /** A piece of an answer being written. */
  'chats.token': z.object({
    conversationId: z.string(),
    messageId: z.string(),
    text: z.string(),
  }),
  /** A message changed: an answer ended (complete, stopped, error) or a partial save. */
  'chats.message': z.object({ conversationId: z.string(), message: messageSchema }),
  /** The list of conversations changed (created, renamed, titled, deleted). */
  'chats.changed': z.object({ conversationId: z.string().optional() }),
  /** Download progress of one model, at most a few times a second. */
  'models.progress': z.object({ id: z.string(), progress: downloadProgressSchema }),
  /** A download ended or changed state. */
  'models.download': z.object({
    id: z.string(),
    state: z.enum(['running', 'done', 'paused', 'failed']),
    error: serializedErrorSchema.optional(),
  }),
  /** Installed models or the catalog state changed; fetch `models.list` again. */
  'models.changed': z.object({}),
  'engine.status': engineStatusSchema,
  /** The batch job's state and counts changed (at most a few times a second, and at its end). */
  'batch.progress': batchStatusSchema.omit({ items: true }),
  /** A piece of an `engine.ask` answer. */
  'engine.token': z.object({ askId: z.string(), text: z.string() }),
  /** One image of the batch job changed (queued, started with its thumbnail, done, failed). */
  'batch.item': z.object({ jobId: z.string(), item: batchItemSchema }),
} as const;

export type EventName = keyof typeof EVENT_PAYLOADS;
export type EventPayload<E extends EventName> = z.output<(typeof EVENT_PAYLOADS)[E]>;

export const API_EVENTS = Object.keys(EVENT_PAYLOADS) as EventName[];

// ---------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------

/** What every call answers, on both transports: the project's one Result envelope. */
export type ApiResponse<T = unknown> = Result<T, SerializedError>;

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

/** Types re-exported for the renderer's convenience. */
export type { AskStats, StopReason };
