import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { LlavaDeskError } from '../common/errors.js';
import type { IgnoredEntry } from './types.js';

/** Extensions of the formats the imaging step reads (SVG left out: not a photo). */
export const DEFAULT_EXTENSIONS: readonly string[] = [
  'jpg',
  'jpeg',
  'jpe',
  'png',
  'webp',
  'gif',
  'avif',
  'heic',
  'heif',
  'tif',
  'tiff',
  'bmp',
];

export interface ScannedImage {
  /** Relative to the folder's real path, '/'-separated: the image's identity in the job. */
  path: string;
  /** Real path (symlinks resolved): where the image is read and its sidecars are written. */
  absolute: string;
}

export interface ScanResult {
  /** The folder's real path: nothing is written outside it. */
  root: string;
  images: ScannedImage[];
  ignored: IgnoredEntry[];
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

const toPosix = (path: string): string => path.split(sep).join('/');

/**
 * The images of a folder, sorted by path. Symlinks are resolved: a link leading outside the
 * folder, back into one of its own ancestors (a loop) or to an image already listed is left out
 * and reported. Hidden entries (a leading dot, temp files included) are not read.
 */
export async function scanFolder(
  folder: string,
  options: { recursive?: boolean; extensions?: readonly string[] } = {},
): Promise<ScanResult> {
  let root: string;
  try {
    root = await realpath(folder);
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (error) {
    throw new LlavaDeskError('FOLDER_NOT_FOUND', `${folder} is not a folder that can be read.`, {
      cause: error,
    });
  }
  const extensions = new Set(
    (options.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase()),
  );
  const images = new Map<string, ScannedImage>();
  const ignored: IgnoredEntry[] = [];
  const visited = new Set<string>([root]);

  async function walk(dir: string, ancestors: readonly string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      ignored.push({ path: toPosix(relative(root, dir)), reason: 'unreadable' });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      const shown = toPosix(relative(root, full));
      let real = full;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          real = await realpath(full);
          const info = await stat(real);
          isDir = info.isDirectory();
          isFile = info.isFile();
        } catch (error) {
          const loop = (error as NodeJS.ErrnoException).code === 'ELOOP';
          ignored.push({ path: shown, reason: loop ? 'loop' : 'unreadable' });
          continue;
        }
        if (real !== root && !isInside(root, real)) {
          ignored.push({ path: shown, reason: 'outside' });
          continue;
        }
      }
      if (isDir) {
        if (!options.recursive) continue;
        if (real === root || ancestors.includes(real)) {
          ignored.push({ path: shown, reason: 'loop' });
          continue;
        }
        if (visited.has(real)) {
          if (real !== full) ignored.push({ path: shown, reason: 'duplicate' });
          continue;
        }
        visited.add(real);
        await walk(real, [...ancestors, real]);
        continue;
      }
      if (!isFile) continue;
      const ext = extname(basename(real)).slice(1).toLowerCase();
      if (!extensions.has(ext)) continue;
      const path = toPosix(relative(root, real));
      if (images.has(path)) {
        if (real !== full) ignored.push({ path: shown, reason: 'duplicate' });
        continue;
      }
      images.set(path, { path, absolute: real });
    }
  }

  await walk(root, [root]);
  const sorted = [...images.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  return { root, images: sorted, ignored };
}
