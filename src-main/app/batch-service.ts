import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type {
  BatchItem,
  BatchProgress,
  BatchStatus,
  BatchSummary,
  ParsedParams,
} from '../api/contract.js';
import {
  batchContextSize,
  DEFAULT_PARALLEL,
  jobOnLoadedEngine,
  ProgressTracker,
  type BatchEvent,
  type BatchJob,
  type JobOptions,
  type KeywordOptions,
} from '../batch/index.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import { readEncoderSpec } from '../imaging/index.js';
import { isBatchActive, isPauseAsked } from '../shared/batch-states.js';
import type { BatchLease, EngineHost } from './engine-host.js';
import type { CoreEvents } from './events.js';
import type { SettingsStore } from './settings-store.js';

export interface BatchServiceOptions {
  dataDir: string;
  engine: EngineHost;
  settings: SettingsStore;
  events: CoreEvents;
}

/** `batch.progress` is sent at most this often while images finish (always at state changes). */
const PROGRESS_EVERY_MS = 250;

const EMPTY_PROGRESS: BatchProgress = {
  total: 0,
  described: 0,
  skipped: 0,
  failed: 0,
  remaining: 0,
  perMinute: 0,
};

interface Running {
  job: BatchJob;
  jobId: string;
  close(): void;
}

/**
 * Runs one batch job at a time for the Batch view with the app's selected model, and reports it
 * as `batch.progress` / `batch.item` events. The job runs in the app's own engine process (the
 * EngineHost reloads it with the job's parallel sequences), so chats and the job share one
 * process and one copy of the model: an answer asked meanwhile runs between the job's steps.
 */
export class BatchService {
  readonly #options: BatchServiceOptions;
  #status: BatchStatus = { state: 'idle', progress: EMPTY_PROGRESS, items: [] };
  #items = new Map<string, BatchItem>();
  #tracker = new ProgressTracker();
  #running: Running | undefined;
  #lastProgress = 0;
  #flush: NodeJS.Timeout | undefined;

  constructor(options: BatchServiceOptions) {
    this.#options = options;
  }

  get status(): BatchStatus {
    return { ...this.#status, items: [...this.#items.values()] };
  }

  async start(params: ParsedParams<'batch.start'>): Promise<BatchStatus> {
    if (isBatchActive(this.#status.state)) {
      throw new LlavaDeskError('JOB_RUNNING', 'A batch job is running. Cancel it first.');
    }
    if (params.keywords !== undefined && (params.preset !== 'keywords' || params.prompt)) {
      throw new LlavaDeskError('INVALID_ARGUMENT', 'Keyword options need the keywords preset.');
    }
    const folder = resolve(params.folder);
    const info = await stat(folder).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new LlavaDeskError('FOLDER_NOT_FOUND', `No folder at ${folder}.`);
    }
    const model = await this.#options.engine.activeModel();
    if (!model) {
      throw new LlavaDeskError(
        'ENGINE_NOT_LOADED',
        'No model is installed. Open Models to download or import one.',
      );
    }
    await this.#options.engine.assertActivePair(params);
    this.#items = new Map();
    this.#tracker = new ProgressTracker();
    this.#status = { state: 'starting', folder, progress: EMPTY_PROGRESS, items: [] };
    this.#emitProgress(true);

    const options: JobOptions = {
      folder,
      thumbnails: true,
      ...(params.recursive !== undefined ? { recursive: params.recursive } : {}),
      ...(params.prompt !== undefined ? { prompt: params.prompt } : {}),
      ...(params.preset !== undefined ? { preset: params.preset } : {}),
      ...(params.outputs !== undefined ? { outputs: params.outputs } : {}),
      ...(params.existing !== undefined ? { existing: params.existing } : {}),
      ...(params.xmpName !== undefined ? { xmpName: params.xmpName } : {}),
      ...(params.embed !== undefined ? { embed: params.embed } : {}),
      ...(params.backup !== undefined ? { backup: params.backup } : {}),
      ...(params.keywords !== undefined ? { keywords: keywordOptions(params.keywords) } : {}),
      ...(params.short !== undefined ? { short: params.short } : {}),
      ...(params.detail !== undefined ? { detail: params.detail } : {}),
      ...(params.maxTokens !== undefined ? { maxTokens: params.maxTokens } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(params.extensions !== undefined ? { extensions: params.extensions } : {}),
      temperature: params.temperature ?? this.#options.settings.current.temperature,
    };

    // The app's engine reloads with the job's sequences; chats share it until the job ends.
    let lease: BatchLease | undefined;
    let job: BatchJob;
    try {
      const encoder = await readEncoderSpec(model.mmprojPath);
      const held = await this.#options.engine.leaseForBatch({
        parallel: DEFAULT_PARALLEL,
        contextSize: batchContextSize(options),
      });
      lease = held;
      job = jobOnLoadedEngine(options, {
        engine: held.client,
        info: held.info,
        modelPath: held.model.modelPath,
        encoder,
        dataDir: this.#options.dataDir,
      });
    } catch (error) {
      lease?.release();
      this.#fail(error);
      throw error;
    }
    const release = lease.release;
    const running: Running = { job, jobId: '', close: release };
    this.#running = running;
    job.on((event) => this.#onEvent(running, event));
    this.#status = { ...this.#status, state: 'running' };
    this.#emitProgress(true);
    void job.run().then(
      (summary) => {
        this.#finish(running, {
          described: summary.described,
          skipped: summary.skipped,
          failed: summary.failed.length,
          cancelled: summary.cancelled,
          ms: summary.ms,
        });
      },
      (error: unknown) => {
        if (this.#running === running) this.#running = undefined;
        running.close();
        this.#fail(error);
      },
    );
    return this.status;
  }

  pause(): BatchStatus {
    if (this.#status.state === 'running') this.#running?.job.pause();
    return this.status;
  }

  resume(): BatchStatus {
    if (isPauseAsked(this.#status.state)) this.#running?.job.resume();
    return this.status;
  }

  cancel(): BatchStatus {
    this.#running?.job.cancel();
    return this.status;
  }

  /** Stops the job (its state is saved; the same folder continues next time). */
  dispose(): void {
    const running = this.#running;
    this.#running = undefined;
    this.#cancelFlush();
    running?.job.cancel();
    running?.close();
  }

  #onEvent(running: Running, event: BatchEvent): void {
    if (this.#running !== running) return;
    this.#tracker.update(event);
    switch (event.type) {
      case 'queued':
        running.jobId = event.jobId;
        this.#status = { ...this.#status, jobId: event.jobId };
        for (const path of event.paths) this.#setItem({ path, state: 'queued' }, false);
        this.#emitProgress(true);
        return;
      case 'started':
        this.#setItem({
          path: event.path,
          state: 'running',
          ...(event.thumbnail
            ? { thumbnail: { mime: 'image/webp', data: new Uint8Array(event.thumbnail.data) } }
            : {}),
        });
        this.#emitProgress(false);
        return;
      case 'tokens':
        return;
      case 'done':
        this.#setItem({ ...this.#itemOf(event.path), state: 'done', text: event.text });
        break;
      case 'failed':
        this.#setItem({
          ...this.#itemOf(event.path),
          state: 'failed',
          error: { code: event.code, message: event.message },
        });
        break;
      case 'skipped':
        this.#setItem({
          ...this.#itemOf(event.path),
          state: 'skipped',
          ...(event.text !== undefined ? { text: event.text } : {}),
        });
        break;
      case 'pausing':
      case 'paused':
        this.#status = { ...this.#status, state: event.type };
        this.#emitProgress(true);
        return;
      case 'resumed':
        this.#status = { ...this.#status, state: 'running' };
        this.#emitProgress(true);
        return;
      case 'finished':
        return;
    }
    this.#emitProgress(false);
  }

  #cancelFlush(): void {
    clearTimeout(this.#flush);
    this.#flush = undefined;
  }

  #finish(running: Running, summary: BatchSummary): void {
    if (this.#running !== running) return;
    this.#running = undefined;
    running.close();
    // Images left queued (a cancel) go back to waiting for the next run.
    this.#status = { ...this.#status, state: 'finished', summary };
    this.#emitProgress(true);
  }

  #fail(error: unknown): void {
    this.#status = { ...this.#status, state: 'error', error: serializeError(error) };
    this.#emitProgress(true);
  }

  #itemOf(path: string): BatchItem {
    return this.#items.get(path) ?? { path, state: 'queued' };
  }

  #setItem(item: BatchItem, emit = true): void {
    const previous = this.#items.get(item.path);
    const merged: BatchItem = { ...item };
    if (!merged.thumbnail && previous?.thumbnail) merged.thumbnail = previous.thumbnail;
    this.#items.set(item.path, merged);
    if (emit && this.#status.jobId !== undefined) {
      // The thumbnail travels once (when the image starts); later updates leave it out.
      const { thumbnail, ...rest } = merged;
      const sent = item.thumbnail ? { ...rest, thumbnail } : rest;
      this.#options.events.emit('batch.item', { jobId: this.#status.jobId, item: sent });
    }
  }

  #emitProgress(force: boolean): void {
    const now = Date.now();
    const snap = this.#tracker.snapshot();
    this.#status = {
      ...this.#status,
      progress: {
        total: snap.total,
        described: snap.described,
        skipped: snap.skipped,
        failed: snap.failed,
        remaining: snap.remaining,
        perMinute: snap.perMinute,
        ...(snap.etaMs !== undefined ? { etaSeconds: snap.etaMs / 1000 } : {}),
      },
    };
    const finishedAll = snap.total > 0 && snap.remaining === 0;
    const wait = PROGRESS_EVERY_MS - (now - this.#lastProgress);
    if (!force && !finishedAll && wait > 0) {
      // No later event may come (a pause, a slow image): the latest counts go out at the end
      // of the interval anyway.
      this.#flush ??= setTimeout(() => {
        this.#flush = undefined;
        this.#emitProgress(true);
      }, wait);
      this.#flush.unref();
      return;
    }
    this.#cancelFlush();
    this.#lastProgress = now;
    const { state, jobId, folder, progress, summary, error } = this.#status;
    this.#options.events.emit('batch.progress', {
      state,
      progress,
      ...(jobId !== undefined ? { jobId } : {}),
      ...(folder !== undefined ? { folder } : {}),
      ...(summary !== undefined ? { summary } : {}),
      ...(error !== undefined ? { error } : {}),
    });
  }
}

/** The API's keyword options as the job takes them (absent fields left out). */
function keywordOptions(k: NonNullable<ParsedParams<'batch.start'>['keywords']>): KeywordOptions {
  return {
    ...(k.case !== undefined ? { case: k.case } : {}),
    ...(k.max !== undefined ? { max: k.max } : {}),
    ...(k.exclude !== undefined ? { exclude: k.exclude } : {}),
    ...(k.vocabulary !== undefined ? { vocabulary: k.vocabulary } : {}),
    ...(k.hierarchy !== undefined ? { hierarchy: k.hierarchy } : {}),
  };
}
