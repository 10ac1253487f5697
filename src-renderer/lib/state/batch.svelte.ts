import { SvelteMap } from 'svelte/reactivity';
import type {
  BatchItem,
  BatchKeywordCase,
  BatchOutput,
  BatchPreset,
  BatchProgress,
  BatchState,
  BatchStatus,
  BatchSummary,
  BatchXmpName,
  EventPayload,
} from '../../../src-main/api/contract';
import { isBatchActive, isPauseAsked } from '../../../src-main/shared/batch-states';
import type { ApiClient } from '../api/client';
import { messageOf, type Toasts } from './toasts.svelte';

export interface BatchRow {
  path: string;
  state: BatchItem['state'];
  text?: string;
  error?: { code: string; message: string };
  /** An object URL of the thumbnail, once it arrived. */
  thumbnail?: string;
}

const EMPTY: BatchProgress = {
  total: 0,
  described: 0,
  skipped: 0,
  failed: 0,
  remaining: 0,
  perMinute: 0,
};

/** The Batch view's form and the app's batch job as the core reports it. */
export class BatchStore {
  // The form.
  folder = $state('');
  mode = $state<'preset' | 'prompt'>('preset');
  preset = $state<BatchPreset>('caption');
  prompt = $state('');
  /** LLaVA's short-answer instruction after the prompt (as the chat's Short answer). */
  short = $state(false);
  outputs = $state<BatchOutput[]>(['txt']);
  recursive = $state(false);
  /** What to do with a sidecar someone else wrote: stop at that image, skip it, or replace. */
  existing = $state<'ask' | 'skip' | 'overwrite'>('ask');
  /** 'auto': the XMP name already next to each image, else photo.jpg.xmp. */
  xmpName = $state<BatchXmpName | 'auto'>('auto');
  /** Write into the image files too; only with `embedConfirmed` (the view's warning). */
  embed = $state(false);
  embedConfirmed = $state(false);
  backup = $state(true);
  keywordCase = $state<BatchKeywordCase>('as-is');
  /** Empty: no limit. */
  maxKeywords = $state('');
  /** Empty: no lr:hierarchicalSubject. */
  hierarchy = $state('');

  // The job.
  state = $state<BatchState>('idle');
  jobId = $state<string | undefined>(undefined);
  progress = $state<BatchProgress>(EMPTY);
  summary = $state<BatchSummary | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  rows = new SvelteMap<string, BatchRow>();
  busy = $state(false);
  /** Whether the app can show the system's folder chooser (the desktop app can). */
  canPickFolder = $state(false);

  readonly #client: ApiClient;
  readonly #toasts: Toasts;

  constructor(client: ApiClient, toasts: Toasts) {
    this.#client = client;
    this.#toasts = toasts;
    client.on('batch.progress', (payload) => this.#onProgress(payload));
    client.on('batch.item', ({ jobId, item }) => {
      if (jobId === this.jobId || this.jobId === undefined) {
        this.jobId = jobId;
        this.#setRow(item);
      }
    });
  }

  get active(): boolean {
    return isBatchActive(this.state);
  }

  /** Pause was asked for: the job is finishing what it generated, or holds. */
  get pauseAsked(): boolean {
    return isPauseAsked(this.state);
  }

  get finishedCount(): number {
    return this.progress.described + this.progress.skipped + this.progress.failed;
  }

  get canStart(): boolean {
    const hasPrompt = this.mode === 'preset' || this.prompt.trim() !== '';
    return (
      !this.active &&
      !this.busy &&
      this.folder.trim() !== '' &&
      hasPrompt &&
      this.outputs.length > 0 &&
      (!this.embed || this.embedConfirmed) &&
      (this.maxKeywordsValue !== null || !this.keywordOptionsShown)
    );
  }

  /** The keyword options apply to the keywords preset only. */
  get keywordOptionsShown(): boolean {
    return this.mode === 'preset' && this.preset === 'keywords';
  }

  /** The keyword limit, undefined when empty, null when not a whole number from 1 to 200. */
  get maxKeywordsValue(): number | undefined | null {
    const text = this.maxKeywords.trim();
    if (text === '') return undefined;
    const n = Number(text);
    return Number.isInteger(n) && n >= 1 && n <= 200 ? n : null;
  }

  #keywordOptions(): { case?: BatchKeywordCase; max?: number; hierarchy?: string } | undefined {
    if (!this.keywordOptionsShown) return undefined;
    const max = this.maxKeywordsValue;
    const hierarchy = this.hierarchy.trim();
    const options = {
      ...(this.keywordCase !== 'as-is' ? { case: this.keywordCase } : {}),
      ...(typeof max === 'number' ? { max } : {}),
      ...(hierarchy !== '' ? { hierarchy } : {}),
    };
    return Object.keys(options).length > 0 ? options : undefined;
  }

  toggleOutput(output: BatchOutput, on: boolean): void {
    const others = this.outputs.filter((o) => o !== output);
    this.outputs = on ? [...others, output] : others;
  }

  async refresh(): Promise<void> {
    try {
      const [status, info] = await Promise.all([
        this.#client.call('batch.status', {}),
        this.#client.call('app.info', {}),
      ]);
      this.#apply(status);
      this.canPickFolder = info.canPickFolder;
    } catch {
      // The view shows the form; a failed status read is not worth a toast.
    }
  }

  /** Fills the folder field from the system's folder chooser; a cancelled chooser changes nothing. */
  async pickFolder(): Promise<void> {
    try {
      const { path } = await this.#client.call('dialog.pickFolder', {
        title: 'Folder to describe',
      });
      if (path !== null) this.folder = path;
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async start(): Promise<void> {
    if (!this.canStart) return;
    this.busy = true;
    this.error = undefined;
    this.#clearRows();
    // The last job's state goes at once: its "finished" without its summary would read "Done".
    this.state = 'starting';
    this.summary = undefined;
    this.jobId = undefined;
    this.progress = EMPTY;
    const keywords = this.#keywordOptions();
    try {
      const status = await this.#client.call('batch.start', {
        folder: this.folder.trim(),
        recursive: this.recursive,
        outputs: this.outputs,
        ...(this.mode === 'preset' ? { preset: this.preset } : { prompt: this.prompt.trim() }),
        ...(this.mode === 'prompt' && this.short ? { short: true } : {}),
        ...(this.existing !== 'ask' ? { existing: this.existing } : {}),
        ...(this.outputs.includes('xmp') && this.xmpName !== 'auto'
          ? { xmpName: this.xmpName }
          : {}),
        ...(this.embed ? { embed: true, backup: this.backup } : {}),
        ...(keywords ? { keywords } : {}),
      });
      this.#apply(status);
    } catch (error) {
      if (this.state === 'starting') this.state = 'idle';
      this.error = messageOf(error);
      this.#toasts.error(`Batch not started: ${messageOf(error)}`);
    } finally {
      this.busy = false;
    }
  }

  async pause(): Promise<void> {
    await this.#control('batch.pause');
  }

  async resume(): Promise<void> {
    await this.#control('batch.resume');
  }

  async cancel(): Promise<void> {
    await this.#control('batch.cancel');
  }

  async #control(method: 'batch.pause' | 'batch.resume' | 'batch.cancel'): Promise<void> {
    try {
      await this.#client.call(method, {});
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  #onProgress(payload: EventPayload<'batch.progress'>): void {
    const wasActive = this.active;
    if (payload.jobId !== undefined) this.jobId = payload.jobId;
    this.state = payload.state;
    this.progress = payload.progress;
    this.summary = payload.summary;
    this.error = payload.error?.message;
    if (wasActive && payload.state === 'finished' && payload.summary) {
      this.#notify(payload.summary);
    } else if (wasActive && payload.state === 'error' && payload.error) {
      this.#toasts.error(`Batch stopped: ${payload.error.message}`);
    }
  }

  #apply(status: BatchStatus): void {
    this.state = status.state;
    this.jobId = status.jobId;
    this.progress = status.progress;
    this.summary = status.summary;
    this.error = status.error?.message;
    if (status.folder !== undefined && this.folder === '') this.folder = status.folder;
    for (const item of status.items) this.#setRow(item);
  }

  #setRow(item: BatchItem): void {
    const previous = this.rows.get(item.path);
    let thumbnail = previous?.thumbnail;
    if (item.thumbnail && thumbnail === undefined) {
      const blob = new Blob([item.thumbnail.data.slice().buffer as ArrayBuffer], {
        type: item.thumbnail.mime,
      });
      thumbnail = URL.createObjectURL(blob);
    }
    this.rows.set(item.path, {
      path: item.path,
      state: item.state,
      ...(item.text !== undefined ? { text: item.text } : {}),
      ...(item.error !== undefined ? { error: item.error } : {}),
      ...(thumbnail !== undefined ? { thumbnail } : {}),
    });
  }

  #clearRows(): void {
    for (const row of this.rows.values()) {
      if (row.thumbnail) URL.revokeObjectURL(row.thumbnail);
    }
    this.rows.clear();
  }

  /** A toast in the window and, where allowed, a system notification. */
  #notify(summary: BatchSummary): void {
    const text = summary.cancelled
      ? `Batch cancelled: ${summary.described} described. Start again to continue.`
      : `Batch done: ${summary.described} described, ${summary.skipped} skipped, ${summary.failed} failed.`;
    this.#toasts.info(text);
    if (
      typeof Notification !== 'undefined' &&
      Notification.permission === 'granted' &&
      document.hidden
    ) {
      new Notification('llava-desk', { body: text });
    }
  }
}
