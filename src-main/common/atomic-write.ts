import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { nodeStoreFs, type StoreFs } from './store-fs.js';

// Hand-rolled rather than write-file-atomic: its current major needs Node 22, and it does not
// fsync the folder after the rename, which is what makes the new name survive a power cut.

/** Name prefix of temporary files; readers skip them, and cleanups may delete stale ones. */
export const TEMP_PREFIX = '.tmp-';

/**
 * A temporary name next to `path`. With `keepExtension` the name ends in the target's own
 * extension (`.tmp-photo.jpg.xmp.<random>.xmp`), for tools that tell a file's type by its name.
 */
export function tempPathFor(path: string, keepExtension = false): string {
  const name = basename(path);
  const ext = keepExtension ? extname(name) : '';
  return join(dirname(path), `${TEMP_PREFIX}${name}.${randomBytes(6).toString('hex')}${ext}`);
}

/** Temp names `tempPathFor` gives `name` (for the cleanup of ones a killed run left). */
export function isTempOf(entry: string, names: ReadonlySet<string>): boolean {
  if (!entry.startsWith(TEMP_PREFIX)) return false;
  const match = /^(.*)\.[0-9a-f]{12}(\.[^.]+)?$/.exec(entry.slice(TEMP_PREFIX.length));
  return match?.[1] !== undefined && names.has(match[1]);
}

/**
 * Puts a finished temp file (written by someone else, e.g. ExifTool) in place of `path`:
 * fsync, rename over the target, fsync the folder. On failure the temp file is removed.
 */
export async function commitTempFile(temp: string, path: string): Promise<void> {
  try {
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(dirname(path));
}

/**
 * Writes a file so that a reader (or a crash at any moment) sees either the old content or the
 * new, never a mix: temp file in the same folder, fsync, rename over the target, fsync the folder.
 * A failure removes the temp file where it can (a full or read-only disk may not allow even that;
 * the stores delete stale temp files when they open). `fs`: the calls it goes through (tests
 * inject disk faults there).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  fs: StoreFs = nodeStoreFs,
): Promise<void> {
  const dir = dirname(path);
  const temp = tempPathFor(path);
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

async function syncFolder(dir: string, fs: StoreFs = nodeStoreFs): Promise<void> {
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
