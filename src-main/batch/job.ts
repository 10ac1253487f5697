import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import { serializeError } from '../common/errors.js';
import type { CompletionRequest, ManyCallbacks, ManyOutcome } from '../engine/vision-engine.js';
import type { EncoderSpec } from '../imaging/index.js';
import { embedMetadata } from './embed.js';
import { openExifTool, type ExifTool } from './exiftool.js';
import { JobStore, type JobMeta, type JobState } from './job-store.js';
import { parseVocabulary } from './keywords.js';
import {
  checkInside,
  keywordsOf,
  metadataOf,
  removeStaleTemps,
  writeSidecars,
  writeTables,
  type OutputSettings,
} from './outputs.js';
import { Prefetcher } from './prefetch.js';
import {
  prepareItem,
  type PrepareContext,
  type PrepareOutcome,
  type ReadyItem,
} from './prepare-item.js';
import { defaultMaxTokens, jobPrompt } from './presets.js';
import { scanFolder } from './scan.js';
import { sidecarPaths, xmpOnDisk, type SidecarPaths } from './sidecars.js';
import type { BatchEvent, DoneRecord, JobOptions, JobSummary } from './types.js';

/** What a job needs from the engine: the in-process VisionEngine or the EngineClient. */
export interface BatchEngine {
  completeMany(requests: CompletionRequest[], callbacks?: ManyCallbacks): Promise<ManyOutcome[]>;
}

export interface JobDeps {
  engine: BatchEngine;
  /** Images in flight at once: the engine's `parallel`. */
  parallel: number;
  /** The LLM's file path (its file name is recorded with each description). */
  modelPath: string;
  encoder: EncoderSpec;
  /** The data folder's `jobs/`. */
  jobsDir: string;
}

interface Failure {
  path: string;
  code: string;
  message: string;
}

/** What one wave needs from its run. */
interface WaveContext {
  store: JobStore;
  run: string;
  model: string;
  prompt: string;
  settings: OutputSettings;
  sidecars: ReadonlyMap<string, SidecarPaths>;
  /** Each image's sha256 as it is now on disk (embedding changes it). */
  currentSha: Map<string, string | null>;
  retry: ReadyItem[];
  summary: { described: number; failed: Failure[] };
}

/** Tables are rewritten at most this often while the job runs (and always at the end). */
const TABLES_EVERY_MS = 2000;

/**
 * Describes every image of a folder. Start it with run(); follow it with on(); pause() and
 * cancel() stop the images in flight at once (paused ones are redone on resume()). State is
 * saved as each image finishes, so a job killed at any moment continues where it stopped when
 * it is run again, and an image changed since its description (sha256) is described again.
 */
export class BatchJob {
  readonly options: JobOptions;
  readonly #deps: JobDeps;
  readonly #listeners = new Set<(event: BatchEvent) => void>();
  #state: JobState | 'idle' = 'idle';
  #wave: AbortController | undefined;
  /** Images whose wave the engine process died under: described again once, then failed. */
  readonly #crashRetried = new Set<string>();
  #wake: (() => void) | undefined;
  #store: JobStore | undefined;

  constructor(options: JobOptions, deps: JobDeps) {
    this.options = options;
    this.#deps = deps;
  }

  get state(): JobState | 'idle' {
    return this.#state;
  }

  /** Subscribes to the job's events; returns the unsubscribe function. */
  on(listener: (event: BatchEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  pause(): void {
    if (this.#state !== 'running') return;
    this.#state = 'paused';
    this.#wave?.abort();
    this.#emit({ type: 'pausing' });
    void this.#saveState();
  }

  resume(): void {
    if (this.#state !== 'paused') return;
    this.#state = 'running';
    this.#emit({ type: 'resumed' });
    void this.#saveState();
    this.#wake?.();
  }

  cancel(): void {
    if (this.#state === 'finished' || this.#state === 'cancelled') return;
    this.#state = 'cancelled';
    this.#wave?.abort();
    this.#wake?.();
  }

  async run(): Promise<JobSummary> {
    if (this.#state !== 'idle') throw new Error('a job runs once');
    this.#state = 'running';
    const started = performance.now();
    const o = this.options;
    const scan = await scanFolder(o.folder, {
      ...(o.recursive !== undefined ? { recursive: o.recursive } : {}),
      ...(o.extensions ? { extensions: o.extensions } : {}),
    });
    const store = await JobStore.open(this.#deps.jobsDir, scan.root);
    this.#store = store;
    const model = basename(this.#deps.modelPath);
    const prompt = jobPrompt(o);
    const outputs = new Set(o.outputs ?? ['txt']);
    // One ExifTool per job, ended with it (below): no ExifTool process outlives a job.
    const exiftool = outputs.has('xmp') || o.embed === true ? openExifTool() : undefined;
    const settings = outputSettings(o, scan.root, exiftool);
    const summary = {
      described: 0,
      skipped: 0,
      failed: [] as Failure[],
    };
    const currentSha = new Map<string, string | null>();
    try {
      const meta = await this.#startRun(store, scan.root, model, prompt);
      const sidecars = sidecarPaths(scan.images, {
        ...(o.xmpName ? { xmpName: o.xmpName } : {}),
        ...(outputs.has('xmp') && !o.xmpName ? { existing: await xmpOnDisk(scan.images) } : {}),
      });
      await removeStaleTemps(
        scan.root,
        sidecars.values(),
        scan.images.map((i) => i.absolute),
      );
      this.#emit({
        type: 'queued',
        jobId: store.jobId,
        total: scan.images.length,
        paths: scan.images.map((i) => i.path),
        ignored: scan.ignored,
      });
      const ctx: PrepareContext = {
        store,
        sidecars,
        settings,
        existing: o.existing ?? 'ask',
        prompt,
        model,
        run: meta.run,
        encoder: this.#deps.encoder,
        detail: o.detail ?? 'standard',
        thumbnails: o.thumbnails === true,
      };
      const parallel = Math.max(1, this.#deps.parallel);
      const prefetch = new Prefetcher(scan.images, (i) => prepareItem(i, ctx), parallel * 2);
      const retry: ReadyItem[] = [];
      let tablesAt = performance.now();

      const settle = async (outcome: PrepareOutcome): Promise<ReadyItem | undefined> => {
        if (outcome.kind === 'ready') {
          currentSha.set(outcome.item.image.path, outcome.item.sha256);
          return outcome.item;
        }
        const path = outcome.image.path;
        currentSha.set(path, outcome.sha256 ?? null);
        if (outcome.kind === 'failed') {
          await this.#fail(store, meta.run, path, outcome.code, outcome.message, summary);
        } else if (outcome.kind === 'unchanged') {
          const paths = sidecars.get(path);
          try {
            // Repairs outputs a kill cut off between the state line and the sidecar.
            if (paths) await writeSidecars(paths, outcome.record, settings, true);
            if (o.embed && !outcome.record.embedded) {
              await this.#embed(store, outcome.record, settings, currentSha);
            }
          } catch (error) {
            const { code, message } = serializeError(error);
            await this.#fail(store, meta.run, path, code, message, summary);
            return undefined;
          }
          summary.skipped += 1;
          this.#emit({ type: 'skipped', path, reason: 'unchanged', text: outcome.record.text });
        } else {
          summary.skipped += 1;
          this.#emit({ type: 'skipped', path, reason: 'exists' });
        }
        return undefined;
      };

      for (;;) {
        await this.#whilePaused();
        if (this.#cancelled()) break;
        const wave = retry.splice(0, parallel);
        while (wave.length < parallel && this.#state === 'running') {
          const next = await prefetch.next();
          if (!next) break;
          const ready = await settle(next);
          if (ready) wave.push(ready);
        }
        if (this.#state !== 'running') {
          retry.unshift(...wave);
          continue;
        }
        if (wave.length === 0) break;
        await this.#describeWave(wave, {
          store,
          run: meta.run,
          model,
          prompt,
          settings,
          sidecars,
          currentSha,
          retry,
          summary,
        });
        if (performance.now() - tablesAt > TABLES_EVERY_MS) {
          await writeTables(this.#tableRecords(scan.images, currentSha), settings);
          tablesAt = performance.now();
        }
      }
      const files = await writeTables(this.#tableRecords(scan.images, currentSha), settings);
      const cancelled = this.#cancelled();
      if (!cancelled) this.#state = 'finished';
      await this.#saveState();
      const result: JobSummary = {
        jobId: store.jobId,
        total: scan.images.length,
        described: summary.described,
        skipped: summary.skipped,
        failed: summary.failed,
        cancelled,
        files,
        ms: performance.now() - started,
      };
      this.#emit({ type: 'finished', summary: result });
      return result;
    } finally {
      this.#store = undefined;
      await store.close();
      await exiftool?.end();
    }
  }

  async #describeWave(wave: ReadyItem[], run: WaveContext): Promise<void> {
    const { store, model, prompt, settings, retry, summary } = run;
    const o = this.options;
    for (const item of wave) {
      this.#emit({
        type: 'started',
        path: item.image.path,
        ...(item.thumbnail ? { thumbnail: item.thumbnail } : {}),
      });
    }
    const controller = new AbortController();
    this.#wave = controller;
    const sampling = {
      temperature: o.temperature ?? 0,
      maxTokens: o.maxTokens ?? defaultMaxTokens(o),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    };
    const requests: CompletionRequest[] = wave.map((item, i) => ({
      // Stable per slot: each slot keeps the shared prompt head in its sequence.
      sessionId: `batch-${i}`,
      conversation: { turns: [{ user: prompt, imageCount: item.bitmaps.length }] },
      images: item.bitmaps,
      sampling,
    }));
    let outcomes: ManyOutcome[];
    try {
      outcomes = await this.#deps.engine.completeMany(requests, {
        signal: controller.signal,
        onToken: (index, e) => {
          const item = wave[index];
          if (item && e.text !== '')
            this.#emit({ type: 'tokens', path: item.image.path, text: e.text });
        },
      });
    } catch (error) {
      const failure: ManyOutcome = { ok: false, error: serializeError(error) };
      outcomes = wave.map(() => failure);
    } finally {
      this.#wave = undefined;
    }
    for (const [i, item] of wave.entries()) {
      const outcome = outcomes[i];
      const path = item.image.path;
      const aborted =
        !outcome ||
        (outcome.ok ? outcome.value.stopReason === 'aborted' : outcome.error.code === 'ABORTED');
      if (aborted && this.#state !== 'running') {
        if (this.#state === 'paused') retry.push(item);
        continue;
      }
      if (!outcome || !outcome.ok) {
        const error = outcome?.error ?? { code: 'ABORTED', message: 'Stopped.' };
        if (error.code === 'PREEMPTED') {
          // An interactive request took the item's sequence: the item is described again.
          retry.push(item);
          continue;
        }
        if (error.code === 'ENGINE_CRASHED' && !this.#crashRetried.has(path)) {
          // The engine restarts at the next call: the image is described again, once.
          this.#crashRetried.add(path);
          retry.push(item);
          continue;
        }
        await this.#fail(store, run.run, path, error.code, error.message, summary);
        continue;
      }
      const text = outcome.value.text.trim();
      const keywords = keywordsOf(text, settings);
      let record: DoneRecord = {
        status: 'done',
        path,
        sha256: item.sha256,
        width: item.width,
        height: item.height,
        model,
        prompt,
        text,
        tokens: outcome.value.tokens.length,
        ms: outcome.value.stats.totalMs,
        run: run.run,
        at: new Date().toISOString(),
        ...(keywords ? { keywords: keywords.keywords } : {}),
        ...(keywords && settings.keywordRules?.vocabulary
          ? { notInVocabulary: keywords.notInVocabulary }
          : {}),
      };
      try {
        // The state line first: a kill before the sidecars is repaired on the next run.
        await store.append(record);
        const paths = run.sidecars.get(path);
        if (paths) await writeSidecars(paths, record, settings);
        if (o.embed) record = await this.#embed(store, record, settings, run.currentSha);
      } catch (error) {
        const failure = serializeError(error);
        await this.#fail(store, run.run, path, failure.code, failure.message, summary);
        continue;
      }
      summary.described += 1;
      this.#emit({ type: 'done', path, text: record.text, record });
    }
  }

  /**
   * Writes the description into the image itself, then records the image's new sha256 (a kill
   * in between only makes the next run describe it again; its backup stays the first original).
   */
  async #embed(
    store: JobStore,
    record: DoneRecord,
    settings: OutputSettings,
    currentSha: Map<string, string | null>,
  ): Promise<DoneRecord> {
    const absolute = join(settings.root, ...record.path.split('/'));
    if (!settings.exiftool) throw new Error('embedding without an ExifTool');
    // The image's folder may have been swapped for a link since the scan.
    await checkInside(settings.root, absolute);
    const sha256 = await embedMetadata(settings.exiftool, absolute, metadataOf(record, settings), {
      backup: this.options.backup !== false,
    });
    const embedded: DoneRecord = { ...record, sha256, embedded: true };
    await store.append(embedded);
    currentSha.set(record.path, sha256);
    return embedded;
  }

  async #fail(
    store: JobStore,
    run: string,
    path: string,
    code: string,
    message: string,
    summary: { failed: Failure[] },
  ): Promise<void> {
    await store.append({
      status: 'failed',
      path,
      code,
      message,
      run,
      at: new Date().toISOString(),
    });
    summary.failed.push({ path, code, message });
    this.#emit({ type: 'failed', path, code, message });
  }

  /** Latest description of every image of the folder that still has the content described. */
  #tableRecords(
    images: ReadonlyArray<{ path: string }>,
    currentSha: ReadonlyMap<string, string | null>,
  ): DoneRecord[] {
    const store = this.#store;
    if (!store) return [];
    const out: DoneRecord[] = [];
    for (const { path } of images) {
      const record = store.done(path);
      if (!record) continue;
      const sha = currentSha.get(path);
      if (sha !== undefined && sha !== record.sha256) continue;
      out.push(record);
    }
    return out;
  }

  /** Resumes the folder's interrupted run when the settings are the same, else starts one. */
  async #startRun(store: JobStore, root: string, model: string, prompt: string): Promise<JobMeta> {
    const o = this.options;
    const configKey = JSON.stringify({
      model,
      prompt,
      outputs: [...(o.outputs ?? ['txt'])].sort(),
      existing: o.existing ?? 'ask',
      detail: o.detail ?? 'standard',
      recursive: o.recursive === true,
      extensions: o.extensions ?? null,
      maxTokens: o.maxTokens ?? null,
      temperature: o.temperature ?? 0,
      seed: o.seed ?? null,
      xmpName: o.xmpName ?? null,
      embed: o.embed === true,
      backup: o.backup !== false,
      keywords: o.keywords ?? null,
    });
    const previous = store.meta;
    const resume = previous && previous.state !== 'finished' && previous.configKey === configKey;
    const meta: JobMeta = {
      v: 1,
      jobId: store.jobId,
      folder: root,
      options: { ...o, folder: root },
      model,
      prompt,
      run: resume ? previous.run : randomUUID(),
      configKey,
      state: 'running',
      updatedAt: new Date().toISOString(),
    };
    await store.writeMeta(meta);
    return meta;
  }

  async #saveState(): Promise<void> {
    const store = this.#store;
    if (!store?.meta || this.#state === 'idle') return;
    await store.writeMeta({
      ...store.meta,
      state: this.#state,
      updatedAt: new Date().toISOString(),
    });
  }

  async #whilePaused(): Promise<void> {
    // Announced here, where the job holds: what finished before the pause has been written.
    if (this.#state === 'paused') this.#emit({ type: 'paused' });
    while (this.#state === 'paused') {
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  #cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  #emit(event: BatchEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure must not stop the job
      }
    }
  }
}

/** The job's output settings: keyword rules resolved (the vocabulary parsed once). */
function outputSettings(
  o: JobOptions,
  root: string,
  exiftool: ExifTool | undefined,
): OutputSettings {
  const k = o.keywords ?? {};
  const hierarchy = k.hierarchy
    ?.split('|')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return {
    root,
    outputs: new Set(o.outputs ?? ['txt']),
    keywords: o.prompt === undefined && o.preset === 'keywords',
    keywordRules: {
      ...(k.case ? { case: k.case } : {}),
      ...(k.max !== undefined ? { max: k.max } : {}),
      ...(k.exclude ? { exclude: k.exclude } : {}),
      ...(k.vocabulary !== undefined ? { vocabulary: parseVocabulary(k.vocabulary) } : {}),
    },
    ...(hierarchy && hierarchy.length > 0 ? { hierarchy } : {}),
    ...(exiftool ? { exiftool } : {}),
  };
}
