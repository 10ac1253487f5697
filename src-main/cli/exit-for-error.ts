import type { ErrorCode } from '../api/errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** Errors caused by what the user handed us: a bad image or model file. */
const BAD_INPUT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'IMAGE_UNSUPPORTED',
  'IMAGE_CORRUPT',
  'IMAGE_TOO_LARGE',
  'MODEL_LOAD_FAILED',
  'MMPROJ_LOAD_FAILED',
  'MODEL_NOT_VISION',
  'MODEL_SOURCE_INVALID',
  'MODEL_FILE_MISSING',
  'NOT_GGUF',
  'GGUF_TRUNCATED',
  'MMPROJ_MISSING',
  'MMPROJ_WIDTH_MISMATCH',
  'MMPROJ_OUTDATED',
  'CHECKSUM_MISMATCH',
  'DOWNLOAD_SIZE_MISMATCH',
  'MODEL_NOT_FOUND',
  'MODEL_GATED',
  'CATALOG_INVALID',
  'MODEL_NOT_INSTALLED',
  'MODEL_ALREADY_INSTALLED',
]);

export function exitForErrorCode(code: ErrorCode): ExitCode {
  if (code === 'USAGE' || code === 'INVALID_ARGUMENT' || code === 'OUTPUT_NOT_WRITABLE') {
    return EXIT.usage;
  }
  return BAD_INPUT.has(code) ? EXIT.badInput : EXIT.failure;
}
