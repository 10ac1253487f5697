// Describe-a-folder jobs: the surface the CLI, the web host and the Batch view use.
export { BatchJob, type BatchEngine, type JobDeps } from './job.js';
export {
  batchContextSize,
  DEFAULT_PARALLEL,
  jobOnLoadedEngine,
  openEngineJob,
  type EngineJobSetup,
} from './engine-job.js';
export { jobIdFor, listJobs, type JobMeta, type JobState } from './job-store.js';
export {
  defaultMaxTokens,
  isPresetName,
  jobPrompt,
  parseKeywords,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
} from './presets.js';
export {
  KEYWORD_CASES,
  normaliseKeywords,
  parseKeywordList,
  parseVocabulary,
  type KeywordCase,
} from './keywords.js';
export { ProgressTracker, type ProgressSnapshot } from './progress.js';
export { DEFAULT_EXTENSIONS, scanFolder, type ScanResult, type ScannedImage } from './scan.js';
export { sidecarPaths, TABLE_FILES, type SidecarPaths } from './sidecars.js';
export { COLUMNS } from './tables.js';
export {
  OUTPUT_FORMATS,
  XMP_NAMINGS,
  type KeywordOptions,
  type XmpNaming,
  type BatchEvent,
  type DoneRecord,
  type ExistingPolicy,
  type FailedRecord,
  type IgnoredEntry,
  type JobOptions,
  type JobSummary,
  type OutputFormat,
  type SkipReason,
} from './types.js';
