import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { nodeStoreFs, type StoreFs } from './store-fs.js';

// Hand-rolled rather than write-file-atomic: its current major needs Node 22, and it does not
// fsync the folder after the rename, which is what makes the new name survive a power cut.

/** Name prefix of temporary files; readers skip them, and cleanups may delete stale ones. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Writes a file so that a reader (or a crash at any moment) sees either the old content or the
 * new, never a mix: temp file in the same folder, fsync, rename over the target, fsync the folder.
 * A failure removes the temp file where it can (a full or read-only disk may not allow even that;
 * the stores delete stale temp files when they open).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  fs: StoreFs = nodeStoreFs,
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString('hex')}`);
  const handle = await fs.open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(dir, fs);
}

async function syncFolder(dir: string, fs: StoreFs): Promise<void> {
  // Windows cannot open a folder for fsync; there NTFS's rename is already journaled.
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Deletes temp files of this module's writes left in `dir` by a crash or a failed save. */
export async function removeStaleTempFiles(dir: string, fs: StoreFs = nodeStoreFs): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) await fs.rm(join(dir, name), { force: true }).catch(() => {});
  }
}
