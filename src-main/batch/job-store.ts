import { createHash } from 'node:crypto';
import { open, readFile, readdir, rm, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import type { DoneRecord, FailedRecord, ItemRecord, JobOptions } from './types.js';

export type JobState = 'running' | 'paused' | 'cancelled' | 'finished';

/** `job.json`: what the job is; the per-image results are in the append-only `items.jsonl`. */
export interface JobMeta {
  v: 1;
  jobId: string;
  /** The folder's real path. */
  folder: string;
  options: JobOptions;
  model: string;
  prompt: string;
  /** Identifies one pass over the folder; an interrupted pass is resumed with the same run. */
  run: string;
  /** What decides whether a later start resumes this run (same settings) or starts another. */
  configKey: string;
  state: JobState;
  updatedAt: string;
}

/** One job per folder: the id is a hash of its real path. */
export function jobIdFor(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 16);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A job's folder in the data folder's `jobs/`: `job.json` (atomic), `items.jsonl` (one record
 * per line, fsynced as each image finishes, so a killed job loses at most the image in flight)
 * and a `lock` with the pid of the process running it.
 */
export class JobStore {
  readonly dir: string;
  readonly jobId: string;
  meta: JobMeta | undefined;
  readonly #done = new Map<string, DoneRecord>();
  readonly #failed = new Map<string, FailedRecord>();
  #log: FileHandle | undefined;

  private constructor(dir: string, jobId: string) {
    this.dir = dir;
    this.jobId = jobId;
  }

  static async open(jobsDir: string, root: string): Promise<JobStore> {
    const jobId = jobIdFor(root);
    const store = new JobStore(join(jobsDir, jobId), jobId);
    await mkdir(store.dir, { recursive: true });
    await store.#lock();
    try {
      store.meta = await readJson<JobMeta>(join(store.dir, 'job.json'));
      await store.#load();
      store.#log = await open(join(store.dir, 'items.jsonl'), 'a');
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  done(path: string): DoneRecord | undefined {
    return this.#done.get(path);
  }

  failed(path: string): FailedRecord | undefined {
    return this.#failed.get(path);
  }

  async append(record: ItemRecord): Promise<void> {
    if (!this.#log) throw new Error('job store is closed');
    await this.#log.write(`${JSON.stringify(record)}\n`);
    await this.#log.datasync();
    if (record.status === 'done') {
      this.#done.set(record.path, record);
      this.#failed.delete(record.path);
    } else {
      this.#failed.set(record.path, record);
    }
  }

  async writeMeta(meta: JobMeta): Promise<void> {
    this.meta = meta;
    await writeFileAtomic(join(this.dir, 'job.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }

  async close(): Promise<void> {
    await this.#log?.close();
    this.#log = undefined;
    await rm(join(this.dir, 'lock'), { force: true });
  }

  async #lock(): Promise<void> {
    const path = join(this.dir, 'lock');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw new LlavaDeskError(
            'JOB_RUNNING',
            `This folder is being described by another process (pid ${pid}).`,
          );
        }
        await rm(path, { force: true }); // left by a process that was killed
      }
    }
    throw new LlavaDeskError('JOB_RUNNING', 'Could not lock the job.');
  }

  async #load(): Promise<void> {
    const path = join(this.dir, 'items.jsonl');
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const record = parseRecord(line);
      if (!record) continue; // a line cut short by a kill
      if (record.status === 'done') {
        this.#done.set(record.path, record);
        this.#failed.delete(record.path);
      } else {
        this.#failed.set(record.path, record);
      }
    }
    // A line cut short has no newline: start the next record on a line of its own.
    if (text !== '' && !text.endsWith('\n')) {
      const handle = await open(path, 'a');
      await handle.write('\n');
      await handle.close();
    }
  }
}

function parseRecord(line: string): ItemRecord | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<ItemRecord>;
    if (typeof value.path !== 'string') return undefined;
    if (value.status === 'done' && typeof value.text === 'string') return value as DoneRecord;
    if (value.status === 'failed') return value as FailedRecord;
  } catch {
    // ignored: see above
  }
  return undefined;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Every job in a data folder's `jobs/` (for the Batch view's history). */
export async function listJobs(jobsDir: string): Promise<JobMeta[]> {
  const names = await readdir(jobsDir).catch(() => [] as string[]);
  const metas = await Promise.all(
    names.map((n) => readJson<JobMeta>(join(jobsDir, n, 'job.json'))),
  );
  return metas.filter((m): m is JobMeta => m !== undefined);
}
