// ExifTool (bundled by exiftool-vendored: Perl ExifTool, run by the system's perl on Linux and
// macOS, a bundled build on Windows) reads and writes the metadata. Each job opens one pool of
// one process and ends it when the job ends, so no ExifTool process outlives a job.
import { ExifTool, type WriteTags } from 'exiftool-vendored';
import { LlavaDeskError } from '../common/errors.js';

export type { ExifTool };

export function openExifTool(): ExifTool {
  return new ExifTool({
    maxProcs: 1,
    // Metadata is small; a task that takes this long is stuck.
    taskTimeoutMillis: 60_000,
    // Nothing here reads dates, GPS or time zones: skip that parsing.
    geolocation: false,
  });
}

/** Plain-value tags by their group-qualified name (`XMP-dc:Description`). */
export type TagValues = Record<string, string | string[]>;

/**
 * Writes tags into `file` in place (the callers hand it a temporary copy). No MWG
 * reconciliation: exactly the groups named are written.
 */
export async function writeTags(et: ExifTool, file: string, tags: TagValues): Promise<void> {
  try {
    await et.write(file, tags as WriteTags, {
      writeArgs: ['-overwrite_original', '-charset', 'iptc=UTF8'],
      useMWG: false,
    });
  } catch (error) {
    throw new LlavaDeskError(
      'METADATA_WRITE_FAILED',
      `ExifTool could not write ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

export interface RawRead {
  values: Record<string, unknown>;
  /** ExifTool's own complaints about the file (a malformed XMP packet shows here). */
  problems: string[];
}

/** Reads the named tags (`-G1` names, e.g. `XMP-dc:Description`) of a file. */
export async function readTags(
  et: ExifTool,
  file: string,
  tags: readonly string[],
): Promise<RawRead> {
  const raw = (await et.readRaw(file, {
    readArgs: [
      '-G1',
      '-charset',
      'iptc=UTF8',
      '-File:FileType',
      // Asked for by name: ExifTool reports them only when asked (or when reading every tag).
      '-ExifTool:Warning',
      '-ExifTool:Error',
      ...tags.map((t) => `-${t}`),
    ],
  })) as unknown as Record<string, unknown>;
  const problems = new Set<string>();
  for (const key of ['errors', 'warnings', 'ExifTool:Warning', 'ExifTool:Error']) {
    for (const item of listValue(raw[key])) problems.add(item);
  }
  return { values: raw, problems: [...problems] };
}

/** A tag's value as a list of strings (ExifTool answers one item as a scalar). */
export function listValue(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
