// Sidecar naming (see docs/BATCH.md): photo.jpg -> photo.txt (kohya, TagGUI and most trainers
// read the same base name), or photo.jpg.txt when another image in the folder has the same base
// name (photo.png). XMP: photo.jpg.xmp (darktable, digiKam) or photo.xmp (Lightroom, Capture
// One); by default whichever is already there, else photo.jpg.xmp. Where photo.jpg and photo.png
// would share photo.xmp, both use the full name, as the .txt sidecars do.
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ScannedImage } from './scan.js';
import type { XmpNaming } from './types.js';

export interface SidecarPaths {
  txt: string;
  xmp: string;
}

/** JSONL and CSV go in the folder itself under these names. */
export const TABLE_FILES = { jsonl: 'llava-desk.jsonl', csv: 'llava-desk.csv' } as const;

/** The `.xmp` files of each folder: lower-cased name -> the name on disk. */
export type XmpOnDisk = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface NamingOptions {
  /** Default: the name already there (photo.jpg.xmp first), else photo.jpg.xmp. */
  xmpName?: XmpNaming;
  existing?: XmpOnDisk;
}

/** Lists the `.xmp` files next to the images (for the default naming). */
export async function xmpOnDisk(images: readonly ScannedImage[]): Promise<XmpOnDisk> {
  const out = new Map<string, Map<string, string>>();
  for (const dir of new Set(images.map((i) => dirname(i.absolute)))) {
    const names = new Map<string, string>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.toLowerCase().endsWith('.xmp')) names.set(name.toLowerCase(), name);
    }
    out.set(dir, names);
  }
  return out;
}

export function sidecarPaths(
  images: readonly ScannedImage[],
  naming: NamingOptions = {},
): Map<string, SidecarPaths> {
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
    const base = name.slice(0, name.length - extname(name).length);
    const shared = (stems.get(stemKey(image.absolute)) ?? 0) > 1;
    const txtStem = shared ? name : base;
    out.set(image.path, {
      txt: join(dir, `${txtStem}.txt`),
      xmp: join(dir, xmpName(name, base, shared, naming, naming.existing?.get(dir))),
    });
  }
  return out;
}

function xmpName(
  name: string,
  base: string,
  shared: boolean,
  naming: NamingOptions,
  onDisk: ReadonlyMap<string, string> | undefined,
): string {
  const full = `${name}.xmp`;
  const short = `${base}.xmp`;
  // A name already there in another case is that file (photo.JPG.xmp on a case-keeping disk).
  const asOnDisk = (wanted: string): string => onDisk?.get(wanted.toLowerCase()) ?? wanted;
  if (shared || naming.xmpName === 'photo.jpg.xmp') return asOnDisk(full);
  if (naming.xmpName === 'photo.xmp') return asOnDisk(short);
  if (onDisk?.has(full.toLowerCase())) return asOnDisk(full);
  if (onDisk?.has(short.toLowerCase())) return asOnDisk(short);
  return full;
}
