import { join } from 'node:path';
import { LlavaDeskError } from '../../common/errors.js';
import { nodeDownloadFs, type DownloadFs } from './download-fs.js';
import type { ByteProgress, DownloadEvent, FileRole } from './events.js';
import { downloadFile, type DownloadedFile } from './file-download.js';
import { partialPathFor, readPartialState, statePathFor } from './partial-state.js';
import { ProgressMeter } from './progress-meter.js';
import { DEFAULT_HF_BASE_URL, resolveModelUri } from './resolve-uri.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

export interface DownloadJobFile {
  role: FileRole;
  /** `hf:<owner>/<repo>/<file>` or an http(s) URL. */
  uri: string;
  /** Name on disk; defaults to the URI's last path segment. */
  fileName?: string;
  expectedSha256?: string;
  sha256Source?: 'catalog' | 'user';
  expectedSize?: number;
  sizeExact?: boolean;
}

export interface DownloadJobOptions {
  /** Folder the files land in (created when missing). */
  dir: string;
  /** The files of one pair, downloaded in order as one job. */
  files: DownloadJobFile[];
  hfBaseUrl?: string;
  /** Access token for the hub (HF_TOKEN); never sent to other hosts. */
  token?: string;
  fs?: DownloadFs;
  retry?: Partial<RetryPolicy>;
  idleTimeoutMs?: number;
  /** Free space to leave on the volume; default 256 MiB. */
  diskMarginBytes?: number;
  /** Minimum time between two progress events; default 200 ms (0: every chunk). */
  progressIntervalMs?: number;
  onEvent?: (event: DownloadEvent) => void;
}

interface FileSlot {
  role: FileRole;
  fileName: string;
  finalPath: string;
  startOffset: number;
  doneBytes: number;
  totalBytes: number | undefined;
  meter: ProgressMeter;
}

/**
 * Both files of a pair as one job: one progress stream, one cancel, one result. Nothing gets its
 * final name before it is complete and verified; partials survive a crash and resume next time.
 */
export class DownloadJob {
  private readonly controller = new AbortController();
  private readonly fs: DownloadFs;
  private readonly retry: RetryPolicy;
  private readonly overallMeter = new ProgressMeter();
  private running: Promise<DownloadedFile[]> | undefined;
  private keepPartial = true;
  private lastProgressAt = -Infinity;

  constructor(private readonly options: DownloadJobOptions) {
    this.fs = options.fs ?? nodeDownloadFs;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  /** Starts the job (once); later calls return the same promise. */
  start(): Promise<DownloadedFile[]> {
    this.running ??= this.run();
    return this.running;
  }

  /**
   * Stops the job. The partial files stay for a later resume unless `keepPartial` is false, in
   * which case every file of this job is removed once the transfer has stopped.
   */
  async cancel(options: { keepPartial?: boolean } = {}): Promise<void> {
    this.keepPartial = options.keepPartial ?? true;
    this.controller.abort(new LlavaDeskError('DOWNLOAD_CANCELLED', 'download cancelled'));
    if (!this.running) {
      if (!this.keepPartial) await this.removeFiles();
      return;
    }
    await this.running.catch(() => undefined);
  }

  private emit(event: DownloadEvent): void {
    this.options.onEvent?.(event);
  }

  private async run(): Promise<DownloadedFile[]> {
    const { options, fs } = this;
    const baseUrl = options.hfBaseUrl ?? DEFAULT_HF_BASE_URL;
    const resolved = options.files.map((file) => ({
      file,
      target: resolveModelUri(file.uri, baseUrl),
    }));
    const slots: FileSlot[] = [];
    for (const { file, target } of resolved) {
      const fileName = file.fileName ?? target.fileName;
      const finalPath = join(options.dir, fileName);
      const state = await readPartialState(fs, finalPath);
      const partial = (await fs.size(partialPathFor(finalPath))) ?? 0;
      const complete = state?.completedSha256 !== undefined ? await fs.size(finalPath) : undefined;
      const doneBytes = complete ?? partial;
      slots.push({
        role: file.role,
        fileName,
        finalPath,
        startOffset: doneBytes,
        doneBytes,
        totalBytes: state?.totalBytes ?? file.expectedSize,
        meter: new ProgressMeter(),
      });
    }
    this.emit({
      type: 'start',
      files: slots.map((s) => ({ role: s.role, fileName: s.fileName, totalBytes: s.totalBytes })),
    });

    try {
      await fs.mkdir(options.dir);
      await this.checkDiskBeforeStart(slots);
      const results: DownloadedFile[] = [];
      for (const [index, { file, target }] of resolved.entries()) {
        const slot = slots[index] as FileSlot;
        const reserveBytes = slots
          .slice(index + 1)
          .reduce((sum, s) => sum + Math.max(0, (s.totalBytes ?? 0) - s.doneBytes), 0);
        const result = await downloadFile(
          {
            role: file.role,
            url: target.url,
            isHub: target.isHub,
            fileName: slot.fileName,
            dir: options.dir,
            expectedSha256: file.expectedSha256?.toLowerCase(),
            sha256Source: file.sha256Source,
            expectedSize: file.expectedSize,
            sizeExact: file.sizeExact,
          },
          {
            fs,
            signal: this.controller.signal,
            retry: this.retry,
            idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
            token: options.token,
            hubOrigin: new URL(baseUrl).origin,
            reserveBytes,
            diskMarginBytes: options.diskMarginBytes ?? 256 * 1024 * 1024,
            emit: (event) => this.emit(event),
            onBytes: (done, total) => this.onBytes(slots, index, done, total),
          },
        );
        this.onBytes(slots, index, result.sizeBytes, result.sizeBytes, true);
        results.push(result);
      }
      this.emit({ type: 'done', files: results });
      return results;
    } catch (error) {
      if (this.controller.signal.aborted) {
        if (!this.keepPartial) await this.removeFiles(slots);
        throw new LlavaDeskError('DOWNLOAD_CANCELLED', 'download cancelled', { cause: error });
      }
      throw error;
    }
  }

  private async checkDiskBeforeStart(slots: FileSlot[]): Promise<void> {
    const needed = slots.reduce(
      (sum, s) => sum + Math.max(0, (s.totalBytes ?? 0) - s.doneBytes),
      this.options.diskMarginBytes ?? 256 * 1024 * 1024,
    );
    const free = await this.fs.freeBytes(this.options.dir);
    if (free < needed) {
      throw new LlavaDeskError(
        'INSUFFICIENT_DISK',
        `not enough free space in ${this.options.dir}: about ${needed} bytes needed, ${free} available`,
      );
    }
  }

  private onBytes(
    slots: FileSlot[],
    index: number,
    done: number,
    total: number | undefined,
    force = false,
  ): void {
    const slot = slots[index];
    if (!slot) return;
    slot.doneBytes = done;
    if (total !== undefined) slot.totalBytes = total;
    slot.meter.record(done - slot.startOffset);
    const sessionBytes = slots.reduce(
      (sum, s) => sum + Math.max(0, s.doneBytes - s.startOffset),
      0,
    );
    this.overallMeter.record(sessionBytes);

    const now = performance.now();
    if (!force && now - this.lastProgressAt < (this.options.progressIntervalMs ?? 200)) return;
    this.lastProgressAt = now;
    const overallDone = slots.reduce((sum, s) => sum + s.doneBytes, 0);
    const totals = slots.map((s) => s.totalBytes);
    const overallTotal = totals.every((t) => t !== undefined)
      ? totals.reduce<number>((sum, t) => sum + (t ?? 0), 0)
      : undefined;
    const progress = (
      meter: ProgressMeter,
      doneBytes: number,
      totalBytes?: number,
    ): ByteProgress => ({
      doneBytes,
      totalBytes,
      bytesPerSecond: meter.bytesPerSecond(),
      etaSeconds: totalBytes === undefined ? undefined : meter.etaSeconds(totalBytes - doneBytes),
    });
    this.emit({
      type: 'progress',
      role: slot.role,
      file: progress(slot.meter, slot.doneBytes, slot.totalBytes),
      overall: progress(this.overallMeter, overallDone, overallTotal),
    });
  }

  private async removeFiles(slots?: FileSlot[]): Promise<void> {
    const paths =
      slots?.map((s) => s.finalPath) ??
      this.options.files.map((f) =>
        join(
          this.options.dir,
          f.fileName ??
            resolveModelUri(f.uri, this.options.hfBaseUrl ?? DEFAULT_HF_BASE_URL).fileName,
        ),
      );
    for (const finalPath of paths) {
      await this.fs.remove(partialPathFor(finalPath));
      await this.fs.remove(statePathFor(finalPath));
      await this.fs.remove(finalPath);
    }
  }
}

export function createDownloadJob(options: DownloadJobOptions): DownloadJob {
  return new DownloadJob(options);
}

/** Removes the `.download.json` sidecars once the files are installed. */
export async function removeDownloadSidecars(
  fs: DownloadFs,
  paths: readonly string[],
): Promise<void> {
  for (const path of paths) await fs.remove(statePathFor(path));
}
