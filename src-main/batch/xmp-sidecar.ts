// XMP sidecars, merged and never replaced: the description (dc:description, x-default) and the
// keywords (dc:subject, lr:hierarchicalSubject) go into the sidecar already there, and every
// other property, namespace and history entry stays. ExifTool does the reading and writing, on a
// temporary copy that is read back and checked before it is renamed over the sidecar.
import { constants } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { commitTempFile, tempPathFor } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import { listValue, readTags, writeTags, type ExifTool, type TagValues } from './exiftool.js';
import { mergeKeywords } from './keywords.js';

/** What llava-desk writes into a sidecar or an image. */
export interface Metadata {
  description: string;
  /** Keywords to add (already normalised); absent leaves the keywords as they are. */
  keywords?: readonly string[];
  /** lr:hierarchicalSubject entries to add (`parent|keyword`). */
  hierarchical?: readonly string[];
}

export interface XmpState {
  exists: boolean;
  description?: string;
  subject: string[];
  hierarchical: string[];
}

const TAGS = {
  description: 'XMP-dc:Description',
  // Written with its language: without it ExifTool would drop the other languages' entries.
  defaultDescription: 'XMP-dc:Description-x-default',
  subject: 'XMP-dc:Subject',
  hierarchical: 'XMP-lr:HierarchicalSubject',
  creatorTool: 'XMP-xmp:CreatorTool',
} as const;

// XML 1.0 allows tab, LF, CR and everything from U+0020 except lone surrogates, U+FFFE, U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text as XMP can hold it: characters XML cannot carry are left out. */
export function xmlSafe(value: string): string {
  return value.replace(NOT_XML_CHAR, '');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Reads a sidecar's description and keywords; XMP_MALFORMED when ExifTool cannot parse it. */
export async function readXmpSidecar(et: ExifTool, path: string): Promise<XmpState> {
  if (!(await exists(path))) return { exists: false, subject: [], hierarchical: [] };
  const read = await readTags(et, path, [TAGS.description, TAGS.subject, TAGS.hierarchical]);
  const type = read.values['File:FileType'];
  const broken = read.problems.find((p) => /error|not a valid/i.test(p));
  if (type !== 'XMP' || broken !== undefined) {
    throw new LlavaDeskError(
      'XMP_MALFORMED',
      `${basename(path)} is not an XMP file ExifTool can read (${broken ?? `a ${String(type ?? 'unknown')} file`}); it was left as it is.`,
    );
  }
  const description = read.values[TAGS.description];
  return {
    exists: true,
    ...(description !== undefined ? { description: String(description) } : {}),
    subject: listValue(read.values[TAGS.subject]),
    hierarchical: listValue(read.values[TAGS.hierarchical]),
  };
}

/** The tags to write so that `state` gets `meta` merged in. */
export function mergedTags(state: XmpState, meta: Metadata): TagValues {
  const tags: TagValues = { [TAGS.defaultDescription]: xmlSafe(meta.description) };
  if (meta.keywords && meta.keywords.length > 0) {
    tags[TAGS.subject] = mergeKeywords(state.subject, meta.keywords.map(xmlSafe));
  }
  if (meta.hierarchical && meta.hierarchical.length > 0) {
    tags[TAGS.hierarchical] = mergeKeywords(state.hierarchical, meta.hierarchical.map(xmlSafe));
  }
  if (!state.exists) tags[TAGS.creatorTool] = 'llava-desk';
  return tags;
}

/** Whether what ExifTool reads back is what was meant to be written. */
function holds(state: XmpState, tags: TagValues): boolean {
  const sameList = (a: readonly string[], b: string | string[] | undefined): boolean =>
    b === undefined || (a.length === b.length && a.every((v, i) => v === b[i]));
  return (
    state.description === tags[TAGS.defaultDescription] &&
    sameList(state.subject, tags[TAGS.subject]) &&
    sameList(state.hierarchical, tags[TAGS.hierarchical])
  );
}

/**
 * Merges `meta` into the sidecar at `path` (creating it when absent): a temporary copy is
 * written by ExifTool, read back and checked, then renamed over the sidecar. A sidecar ExifTool
 * cannot parse is left untouched (XMP_MALFORMED); a copy that does not read back as written is
 * discarded (METADATA_WRITE_FAILED).
 */
export async function writeXmpSidecar(et: ExifTool, path: string, meta: Metadata): Promise<void> {
  const state = await readXmpSidecar(et, path);
  const tags = mergedTags(state, meta);
  const temp = tempPathFor(path, true);
  try {
    if (state.exists) await copyFile(path, temp, constants.COPYFILE_EXCL);
    await writeTags(et, temp, tags);
    const written = await readXmpSidecar(et, temp);
    if (!holds(written, tags)) {
      throw new LlavaDeskError(
        'METADATA_WRITE_FAILED',
        `${basename(path)}: ExifTool's copy did not read back as written; the sidecar was left as it is.`,
      );
    }
  } catch (error) {
    await rm(temp, { force: true });
    // Some damage only shows when ExifTool rewrites the packet.
    if (
      error instanceof LlavaDeskError &&
      error.code === 'METADATA_WRITE_FAILED' &&
      /XMP format error|not a valid XMP|looks more like/i.test(error.message)
    ) {
      throw new LlavaDeskError(
        'XMP_MALFORMED',
        `${basename(path)} is not an XMP file ExifTool can rewrite; it was left as it is. (${error.message})`,
        { cause: error },
      );
    }
    throw error;
  }
  await commitTempFile(temp, path);
}
