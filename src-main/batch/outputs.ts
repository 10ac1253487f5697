import { readdir, readFile, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TEMP_PREFIX, writeFileAtomic } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import { parseKeywords } from './presets.js';
import { isInside } from './scan.js';
import { TABLE_FILES, type SidecarPaths } from './sidecars.js';
import { renderCsv, renderJsonl } from './tables.js';
import type { DoneRecord, OutputFormat } from './types.js';
import { renderXmp } from './xmp.js';

export interface OutputSettings {
  /** The folder's real path. */
  root: string;
  outputs: ReadonlySet<OutputFormat>;
  /** Whether descriptions are keyword lists (XMP gets dc:subject too). */
  keywords: boolean;
}

type SidecarKind = 'txt' | 'xmp';

function sidecarKinds(settings: OutputSettings): SidecarKind[] {
  return (['txt', 'xmp'] as const).filter((k) => settings.outputs.has(k));
}

function render(kind: SidecarKind, record: DoneRecord, settings: OutputSettings): string {
  if (kind === 'txt') return `${record.text}\n`;
  return renderXmp(record.text, settings.keywords ? parseKeywords(record.text) : undefined);
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
async function checkInside(root: string, path: string): Promise<void> {
  const dir = await realpath(dirname(path));
  if (dir !== root && !isInside(root, dir)) {
    throw new LlavaDeskError('OUTPUT_OUTSIDE_FOLDER', `${path} is outside ${root}; not written.`);
  }
}

/**
 * Sidecars already there that this job did not write: their content is not what the job's last
 * description of the image renders to.
 */
export async function foreignSidecars(
  paths: SidecarPaths,
  previous: DoneRecord | undefined,
  settings: OutputSettings,
): Promise<string[]> {
  const foreign: string[] = [];
  for (const kind of sidecarKinds(settings)) {
    const existing = await readIfExists(paths[kind]);
    if (existing === undefined) continue;
    if (previous && existing === render(kind, previous, settings)) continue;
    foreign.push(paths[kind]);
  }
  return foreign;
}

/** Writes the image's sidecars (atomically); with `onlyMissing`, only those not there. */
export async function writeSidecars(
  paths: SidecarPaths,
  record: DoneRecord,
  settings: OutputSettings,
  onlyMissing = false,
): Promise<void> {
  for (const kind of sidecarKinds(settings)) {
    const path = paths[kind];
    if (onlyMissing && (await readIfExists(path)) !== undefined) continue;
    await checkInside(settings.root, path);
    await writeFileAtomic(path, render(kind, record, settings));
  }
}

/** Rewrites the folder's JSONL and CSV from the records (atomically, sorted by path). */
export async function writeTables(
  records: readonly DoneRecord[],
  settings: OutputSettings,
): Promise<{ jsonl?: string; csv?: string }> {
  const sorted = [...records].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: { jsonl?: string; csv?: string } = {};
  if (settings.outputs.has('jsonl')) {
    await writeFileAtomic(join(settings.root, TABLE_FILES.jsonl), renderJsonl(sorted));
    files.jsonl = TABLE_FILES.jsonl;
  }
  if (settings.outputs.has('csv')) {
    await writeFileAtomic(join(settings.root, TABLE_FILES.csv), renderCsv(sorted));
    files.csv = TABLE_FILES.csv;
  }
  return files;
}

/**
 * Deletes temp files a killed run left behind: only `.tmp-<name>.<random>` of this job's own
 * output names, in the folders it writes to (the job's lock keeps other writers out).
 */
export async function removeStaleTemps(
  root: string,
  sidecars: Iterable<SidecarPaths>,
): Promise<void> {
  const names = new Map<string, Set<string>>([[root, new Set(Object.values(TABLE_FILES))]]);
  for (const paths of sidecars) {
    for (const path of [paths.txt, paths.xmp]) {
      const dir = dirname(path);
      const set = names.get(dir) ?? new Set<string>();
      set.add(basename(path));
      names.set(dir, set);
    }
  }
  for (const [dir, own] of names) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) {
      if (!entry.startsWith(TEMP_PREFIX)) continue;
      const target = entry.slice(TEMP_PREFIX.length).replace(/\.[0-9a-f]{12}$/, '');
      if (own.has(target)) await rm(join(dir, entry), { force: true });
    }
  }
}
