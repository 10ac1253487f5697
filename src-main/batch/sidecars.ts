// Sidecar naming (see docs/BATCH.md): photo.jpg -> photo.txt (kohya, TagGUI and most trainers
// read the same base name), or photo.jpg.txt when another image in the folder has the same base
// name (photo.png); XMP always photo.jpg.xmp (darktable and digiKam's naming, no clashes).
import { basename, dirname, extname, join } from 'node:path';
import type { ScannedImage } from './scan.js';

export interface SidecarPaths {
  txt: string;
  xmp: string;
}

/** JSONL and CSV go in the folder itself under these names. */
export const TABLE_FILES = { jsonl: 'llava-desk.jsonl', csv: 'llava-desk.csv' } as const;

export function sidecarPaths(images: readonly ScannedImage[]): Map<string, SidecarPaths> {
  const stems = new Map<string, number>();
  const stemKey = (absolute: string): string => {
    const name = basename(absolute);
    // Case-insensitive: on macOS and Windows photo.JPG and photo.png would share photo.txt.
    return join(dirname(absolute), name.slice(0, name.length - extname(name).length)).toLowerCase();
  };
  for (const image of images) {
    const key = stemKey(image.absolute);
    stems.set(key, (stems.get(key) ?? 0) + 1);
  }
  const out = new Map<string, SidecarPaths>();
  for (const image of images) {
    const name = basename(image.absolute);
    const dir = dirname(image.absolute);
    const shared = (stems.get(stemKey(image.absolute)) ?? 0) > 1;
    const stem = shared ? name : name.slice(0, name.length - extname(name).length);
    out.set(image.path, { txt: join(dir, `${stem}.txt`), xmp: join(dir, `${name}.xmp`) });
  }
  return out;
}
