import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { LlavaDeskError } from '../common/errors.js';
import { toStorageError } from '../common/storage-errors.js';

// Model files shipped with the app (the shapes demo): a catalog file whose URI is
// `app:<path>` is copied from the app's own folder (the folder that holds models/catalog.json)
// instead of downloaded, and checked against the catalog's sha256 like a download.

/** `app:` and a relative path of plain segments (letters, digits, `.`, `_`, `-`; no `..`). */
const APP_URI = /^app:((?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*)$/;

export function isBundledUri(uri: string): boolean {
  return APP_URI.test(uri);
}

/** A pair the app ships: every file `app:` (the catalog allows no mix of shipped and downloaded). */
export function isBundledPair(files: readonly { uri: string }[]): boolean {
  return files.every((f) => isBundledUri(f.uri));
}

/** Where an `app:` file lies under `appRoot`; MODEL_SOURCE_INVALID for anything else. */
export function bundledPath(appRoot: string, uri: string): string {
  const relative = APP_URI.exec(uri)?.[1];
  const root = resolve(appRoot);
  const path = relative === undefined ? undefined : resolve(root, relative);
  if (path === undefined || !path.startsWith(root + sep)) {
    throw new LlavaDeskError('MODEL_SOURCE_INVALID', `not a file shipped with the app: ${uri}`);
  }
  return path;
}

export interface BundledFile {
  role: 'model' | 'mmproj';
  uri: string;
  expectedSha256?: string | undefined;
}

export interface CopiedFile {
  role: 'model' | 'mmproj';
  path: string;
  sha256: string;
}

/**
 * Copies the files into `dir` (each through a temporary name, renamed once its sha256 matched),
 * so an interrupted or failed copy leaves nothing that looks installed. Read whole: these are
 * small files, and a plain read also works inside Electron's asar archive.
 */
export async function copyBundledFiles(
  appRoot: string,
  dir: string,
  files: readonly BundledFile[],
): Promise<CopiedFile[]> {
  await mkdir(dir, { recursive: true });
  const copied: CopiedFile[] = [];
  for (const file of files) {
    const from = bundledPath(appRoot, file.uri);
    let bytes: Buffer;
    try {
      bytes = await readFile(from);
    } catch (error) {
      throw new LlavaDeskError(
        'MODEL_FILE_MISSING',
        `${basename(from)} should come with the app but cannot be read; reinstalling the app restores it`,
        { cause: error },
      );
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (file.expectedSha256 !== undefined && file.expectedSha256 !== sha256) {
      throw new LlavaDeskError(
        'CHECKSUM_MISMATCH',
        `${basename(from)} that came with the app has sha256 ${sha256}, not the catalog's ` +
          `${file.expectedSha256}; reinstalling the app restores it`,
      );
    }
    const to = join(dir, basename(from));
    const part = `${to}.part`;
    try {
      await writeFile(part, bytes);
      await rename(part, to);
    } catch (error) {
      await rm(part, { force: true });
      throw toStorageError(error, 'install the model');
    }
    copied.push({ role: file.role, path: to, sha256 });
  }
  return copied;
}
