import { createReadStream } from 'node:fs';
import {
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  statfs,
  truncate,
  writeFile,
} from 'node:fs/promises';

/** A file opened for appending downloaded bytes. */
export interface AppendFile {
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes to disk (fsync) and closes. */
  close(): Promise<void>;
}

/**
 * The file-system operations a download needs. Injectable so tests can make a write fail with
 * ENOSPC or report little free space, which a real disk cannot be made to do here.
 */
export interface DownloadFs {
  mkdir(dir: string): Promise<void>;
  openAppend(path: string): Promise<AppendFile>;
  truncate(path: string, length: number): Promise<void>;
  /** Size in bytes, or undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  readText(path: string): Promise<string | undefined>;
  /** Writes a small file atomically (temporary sibling, then rename). */
  writeTextAtomic(path: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Bytes available to this user on the volume holding `dir`. */
  freeBytes(dir: string): Promise<number>;
  readChunks(path: string): AsyncIterable<Uint8Array>;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export const nodeDownloadFs: DownloadFs = {
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  async openAppend(path) {
    const handle = await open(path, 'a');
    return {
      async write(chunk) {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      },
      async close() {
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
    };
  },
  async truncate(path, length) {
    await truncate(path, length);
  },
  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async readText(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async writeTextAtomic(path, text) {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  },
  async rename(from, to) {
    await rename(from, to);
  },
  async remove(path) {
    await rm(path, { force: true });
  },
  async freeBytes(dir) {
    const stats = await statfs(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  },
  readChunks(path) {
    return createReadStream(path, { highWaterMark: 1 << 20 });
  },
};
