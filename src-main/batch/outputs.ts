import { readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isTempOf, writeFileAtomic } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import type { ExifTool } from './exiftool.js';
import {
  normaliseKeywords,
  splitKeywords,
  type KeywordResult,
  type KeywordRules,
} from './keywords.js';
import { isInside } from './scan.js';
import { TABLE_FILES, type SidecarPaths } from './sidecars.js';
import { renderCsv, renderJsonl } from './tables.js';
import type { DoneRecord, OutputFormat } from './types.js';
import { readXmpSidecar, writeXmpSidecar, xmlSafe, type Metadata } from './xmp-sidecar.js';

export interface OutputSettings {
  /** The folder's real path. */
  root: string;
  outputs: ReadonlySet<OutputFormat>;
  /** Whether descriptions are keyword lists (XMP gets dc:subject too). */
  keywords: boolean;
  keywordRules?: KeywordRules;
  /** Parent path of lr:hierarchicalSubject entries; absent: none written. */
  hierarchy?: readonly string[];
  /** The job's ExifTool (present when XMP is written or the images get the description). */
  exiftool?: ExifTool;
}

type SidecarKind = 'txt' | 'xmp';

function sidecarKinds(settings: OutputSettings): SidecarKind[] {
  return (['txt', 'xmp'] as const).filter((k) => settings.outputs.has(k));
}

function exiftoolOf(settings: OutputSettings): ExifTool {
  if (!settings.exiftool) throw new Error('XMP output without an ExifTool');
  return settings.exiftool;
}

/** The catalogue keywords of a description (the `keywords` preset), by the job's rules. */
export function keywordsOf(text: string, settings: OutputSettings): KeywordResult | undefined {
  if (!settings.keywords) return undefined;
  return normaliseKeywords(splitKeywords(text), settings.keywordRules);
}

/** What goes into the XMP sidecar and the image for a description. */
export function metadataOf(record: DoneRecord, settings: OutputSettings): Metadata {
  const found = keywordsOf(record.text, settings);
  const hierarchy = settings.hierarchy;
  return {
    description: record.text,
    ...(found ? { keywords: found.keywords } : {}),
    ...(found && hierarchy
      ? { hierarchical: found.paths.map((path) => [...hierarchy, ...path].join('|')) }
      : {}),
  };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Refuses a target whose folder resolves outside the job's folder (a link swapped in). */
export async function checkInside(root: string, path: string): Promise<void> {
  const dir = await realpath(dirname(path));
  if (dir !== root && !isInside(root, dir)) {
    throw new LlavaDeskError('OUTPUT_OUTSIDE_FOLDER', `${path} is outside ${root}; not written.`);
  }
}

/**
 * Sidecars already there whose content is someone else's: a `.txt` that is not what the job's
 * last description of the image renders to; an `.xmp` with a description (dc:description) other
 * than the job's last one. An XMP sidecar without a description is not in the way: the
 * description is merged into it. A sidecar ExifTool cannot parse throws XMP_MALFORMED.
 */
export async function foreignSidecars(
  paths: SidecarPaths,
  previous: DoneRecord | undefined,
  settings: OutputSettings,
): Promise<string[]> {
  const foreign: string[] = [];
  for (const kind of sidecarKinds(settings)) {
    if (kind === 'txt') {
      const existing = await readIfExists(paths.txt);
      if (existing === undefined) continue;
      if (previous && existing === `${previous.text}\n`) continue;
      foreign.push(paths.txt);
      continue;
    }
    const state = await readXmpSidecar(exiftoolOf(settings), paths.xmp);
    if (state.description === undefined) continue;
    if (previous && state.description === xmlSafe(previous.text)) continue;
    foreign.push(paths.xmp);
  }
  return foreign;
}

/**
 * Writes the image's sidecars (atomically; XMP merged into the sidecar there). With `repair`,
 * only what a kill cut off: a missing `.txt`, an `.xmp` missing or without a description.
 */
export async function writeSidecars(
  paths: SidecarPaths,
  record: DoneRecord,
  settings: OutputSettings,
  repair = false,
): Promise<void> {
  for (const kind of sidecarKinds(settings)) {
    const path = paths[kind];
    if (kind === 'txt') {
      if (repair && (await readIfExists(path)) !== undefined) continue;
      await checkInside(settings.root, path);
      await writeFileAtomic(path, `${record.text}\n`);
      continue;
    }
    const et = exiftoolOf(settings);
    if (repair && (await readXmpSidecar(et, path)).description !== undefined) continue;
    await checkInside(settings.root, path);
    await writeXmpSidecar(et, path, metadataOf(record, settings));
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Rewrites the folder's JSONL and CSV from the records (atomically, sorted by path). A folder
 * with nothing described gets no empty tables (one written before is brought up to date).
 */
export async function writeTables(
  records: readonly DoneRecord[],
  settings: OutputSettings,
): Promise<{ jsonl?: string; csv?: string }> {
  const sorted = [...records].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: { jsonl?: string; csv?: string } = {};
  for (const format of ['jsonl', 'csv'] as const) {
    if (!settings.outputs.has(format)) continue;
    const path = join(settings.root, TABLE_FILES[format]);
    if (sorted.length === 0 && !(await exists(path))) continue;
    await writeFileAtomic(path, format === 'jsonl' ? renderJsonl(sorted) : renderCsv(sorted));
    files[format] = TABLE_FILES[format];
  }
  return files;
}

/**
 * Deletes temp files a killed run left behind: only `.tmp-<name>.<random>[.ext]` of this job's
 * own output names and images, in the folders it writes to (the job's lock keeps other writers
 * out).
 */
export async function removeStaleTemps(
  root: string,
  sidecars: Iterable<SidecarPaths>,
  images: Iterable<string> = [],
): Promise<void> {
  const names = new Map<string, Set<string>>([[root, new Set(Object.values(TABLE_FILES))]]);
  const own = (path: string): void => {
    const dir = dirname(path);
    const set = names.get(dir) ?? new Set<string>();
    set.add(basename(path));
    names.set(dir, set);
  };
  for (const paths of sidecars) {
    own(paths.txt);
    own(paths.xmp);
  }
  for (const image of images) own(image);
  for (const [dir, mine] of names) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) {
      if (isTempOf(entry, mine)) await rm(join(dir, entry), { force: true });
    }
  }
}
