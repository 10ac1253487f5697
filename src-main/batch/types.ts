import type { Detail, Thumbnail } from '../imaging/index.js';
import type { KeywordCase } from './keywords.js';
import type { PresetName } from './presets.js';

export type OutputFormat = 'txt' | 'jsonl' | 'csv' | 'xmp';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['txt', 'jsonl', 'csv', 'xmp'];

/**
 * What to do with a sidecar that is already there and was not written by this job:
 * 'ask' fails that image (OUTPUT_EXISTS, nothing touched), 'skip' keeps it and skips the image,
 * 'overwrite' describes every image again and replaces every output.
 */
export type ExistingPolicy = 'ask' | 'skip' | 'overwrite';

/** XMP sidecar names: darktable and digiKam's photo.jpg.xmp, Lightroom's photo.xmp. */
export type XmpNaming = 'photo.jpg.xmp' | 'photo.xmp';
export const XMP_NAMINGS: readonly XmpNaming[] = ['photo.jpg.xmp', 'photo.xmp'];

/** How the `keywords` preset's answer becomes catalogue keywords (see keywords.ts). */
export interface KeywordOptions {
  /** Default 'as-is'. */
  case?: KeywordCase;
  max?: number;
  /** Words never kept. */
  exclude?: readonly string[];
  /** A controlled vocabulary's text (one keyword a line, or Lightroom's keyword export). */
  vocabulary?: string;
  /** Also write lr:hierarchicalSubject, each keyword under this parent (`Parent|Child` nests). */
  hierarchy?: string;
}

export interface JobOptions {
  /** The folder to describe; outputs are written only inside it. */
  folder: string;
  recursive?: boolean;
  /** Lower-case extensions without the dot. Default: DEFAULT_EXTENSIONS. */
  extensions?: readonly string[];
  /** A prompt of one's own, or a preset (default 'detailed'). */
  prompt?: string;
  preset?: PresetName;
  /** Appends LLaVA's "answer with a single word or phrase" instruction. */
  short?: boolean;
  /** Image detail: 'high' uses AnyRes tiles where the projector has them. Default 'standard'. */
  detail?: Detail;
  /** Default ['txt']. */
  outputs?: readonly OutputFormat[];
  existing?: ExistingPolicy;
  /** Default: the XMP name already next to the image, else photo.jpg.xmp. */
  xmpName?: XmpNaming;
  /** Also write the description and keywords into the image files (opt-in). */
  embed?: boolean;
  /** With `embed`, keep each original as photo.jpg_original. Default true. */
  backup?: boolean;
  keywords?: KeywordOptions;
  /** Default: the preset's. */
  maxTokens?: number;
  /** Default 0 (greedy: the same image gets the same description). */
  temperature?: number;
  seed?: number;
  /** Send a thumbnail with each `started` event (for the Batch view). Default false. */
  thumbnails?: boolean;
}

/** One image's line in the job's state log (and the JSONL output, less `run` and `at`). */
export interface DoneRecord {
  status: 'done';
  path: string;
  sha256: string;
  width: number;
  height: number;
  model: string;
  prompt: string;
  text: string;
  tokens: number;
  ms: number;
  run: string;
  at: string;
  /** The catalogue keywords written (the `keywords` preset). */
  keywords?: string[];
  /** Keywords of the answer left out because the vocabulary does not hold them. */
  notInVocabulary?: string[];
  /** The description was written into the image (`sha256` is then the new file's). */
  embedded?: boolean;
}

export interface FailedRecord {
  status: 'failed';
  path: string;
  code: string;
  message: string;
  run: string;
  at: string;
}

export type ItemRecord = DoneRecord | FailedRecord;

export interface JobSummary {
  jobId: string;
  total: number;
  described: number;
  /** Already described and unchanged, or kept sidecars ('skip'). */
  skipped: number;
  failed: ReadonlyArray<{ path: string; code: string; message: string }>;
  cancelled: boolean;
  /** Folder-relative paths of the JSONL / CSV files written, when asked for. */
  files: { jsonl?: string; csv?: string };
  ms: number;
}

export type SkipReason = 'unchanged' | 'exists';

/** Everything a job reports, in order; `path` is relative to the folder, with '/' separators. */
export type BatchEvent =
  | { type: 'queued'; jobId: string; total: number; paths: string[]; ignored: IgnoredEntry[] }
  | { type: 'started'; path: string; thumbnail?: Thumbnail }
  | { type: 'tokens'; path: string; text: string }
  | { type: 'done'; path: string; text: string; record: DoneRecord }
  | { type: 'failed'; path: string; code: string; message: string }
  | { type: 'skipped'; path: string; reason: SkipReason; text?: string }
  /** Asked to pause: the images in flight stop; what they finished is still written. */
  | { type: 'pausing' }
  /** Holding: nothing changes on disk until resume() or cancel(). */
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'finished'; summary: JobSummary };

/** A folder entry the scan left out, and why (symlink loops, links leading outside). */
export interface IgnoredEntry {
  path: string;
  reason: 'loop' | 'outside' | 'duplicate' | 'unreadable';
}
