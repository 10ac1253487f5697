/**
 * Error codes shared by the core, the CLI, the web host and the renderer. A caller branches on the
 * code, never on the message. Later areas add their codes here.
 */
export const ERROR_CODES = [
  'USAGE',
  'NOT_IMPLEMENTED',
  'HOST_NOT_ALLOWED',
  'RENDERER_NOT_BUILT',
  'INTERNAL',
  /** The data folder cannot be written (read-only, no permission, failing disk). */
  'STORAGE_UNAVAILABLE',
  /** A WebSocket message larger than any valid request of its kind. */
  'REQUEST_TOO_LARGE',
  // engine
  'ENGINE_CRASHED',
  'ENGINE_NOT_LOADED',
  'ABORTED',
  'CONTEXT_FULL',
  'CONTEXT_BUSY',
  /** Another model was asked for while work (a batch job) runs on the loaded one. */
  'MODEL_BUSY',
  'INVALID_ARGUMENT',
  'MODEL_LOAD_FAILED',
  'MMPROJ_LOAD_FAILED',
  'CONTEXT_CREATE_FAILED',
  'IMAGE_PROCESSING_FAILED',
  'ENCODE_FAILED',
  'DECODE_FAILED',
  'TOKENIZE_FAILED',
  'NATIVE_BRIDGE_MISSING',
  'NATIVE_BRIDGE_MISMATCH',
  'NATIVE_BRIDGE_LOAD_FAILED',
  'NO_BACKENDS',
  'MODEL_NOT_VISION',
  /** A native model is still used by a context or an mtmd context built on it. */
  'IN_USE',
  /** A native object was used after dispose(). */
  'DISPOSED',
  /** Logits were asked for before any evaluation produced them. */
  'NO_LOGITS',
  /** A native failure with no more specific code (a C++ exception, an allocation failure). */
  'NATIVE_ERROR',
  /**
   * Between the engine host and its process only: a request left out the pixels of an image the
   * session's cache no longer holds; the host sends the request again with every image's pixels.
   */
  'ENGINE_IMAGES_NEEDED',
  /**
   * Between the engine and a batch job only: an interactive request took the sequence of a batch
   * item half-way through its answer; the job describes that item again.
   */
  'PREEMPTED',
  // chats
  'CHAT_NOT_FOUND',
  'MESSAGE_NOT_FOUND',
  'CHAT_CORRUPT',
  'CHAT_FROM_NEWER_VERSION',
  'IMAGE_NOT_FOUND',
  // models: downloads
  'MODEL_GATED',
  'MODEL_NOT_FOUND',
  'NETWORK_FAILED',
  'DOWNLOAD_TRUNCATED',
  'DOWNLOAD_SIZE_MISMATCH',
  'DOWNLOAD_CANCELLED',
  'CHECKSUM_MISMATCH',
  'INSUFFICIENT_DISK',
  'DISK_FULL',
  // models: catalog, files, pairing, registry
  'CATALOG_INVALID',
  'MODEL_SOURCE_INVALID',
  'MODEL_FILE_MISSING',
  'NOT_GGUF',
  'GGUF_TRUNCATED',
  'MMPROJ_MISSING',
  'MMPROJ_WIDTH_MISMATCH',
  'MMPROJ_OUTDATED',
  'MODEL_NOT_INSTALLED',
  'MODEL_ALREADY_INSTALLED',
  // imaging
  'IMAGE_UNSUPPORTED',
  'IMAGE_CORRUPT',
  'IMAGE_TOO_LARGE',
  'IMAGE_TIMEOUT',
  'MMPROJ_NOT_VISION',
  // batch
  'FOLDER_NOT_FOUND',
  'OUTPUT_EXISTS',
  'OUTPUT_OUTSIDE_FOLDER',
  'JOB_RUNNING',
  'XMP_MALFORMED',
  'METADATA_WRITE_FAILED',
  'EMBED_UNSUPPORTED',
  'EMBED_PIXELS_CHANGED',
  // diagnostics
  'OUTPUT_NOT_WRITABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/**
 * The codes the native addon sets (`native/src/common.h`, namespace `code`) and those of its
 * loader (`src-main/engine/native/binding.ts`): each is an API error code, so a native error keeps
 * its code when it crosses to the renderer (tests/unit/error-codes.test.ts reads common.h).
 */
export const NATIVE_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'MODEL_LOAD_FAILED',
  'MMPROJ_LOAD_FAILED',
  'CONTEXT_CREATE_FAILED',
  'CONTEXT_FULL',
  'CONTEXT_BUSY',
  'IN_USE',
  'DISPOSED',
  'ABORTED',
  'TOKENIZE_FAILED',
  'IMAGE_PROCESSING_FAILED',
  'ENCODE_FAILED',
  'DECODE_FAILED',
  'NO_LOGITS',
  'NATIVE_ERROR',
  // the loader
  'NO_BACKENDS',
  'NATIVE_BRIDGE_MISSING',
  'NATIVE_BRIDGE_MISMATCH',
  'NATIVE_BRIDGE_LOAD_FAILED',
] as const satisfies readonly ErrorCode[];

export type NativeErrorCode = (typeof NATIVE_ERROR_CODES)[number];

/** The shape every error takes when it crosses a process or network boundary. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
}

/** The refusal of a call to a method the contract does not have, on every transport. */
export function unknownMethodError(method: unknown): SerializedError {
  const name = typeof method === 'string' ? method : String(method);
  return { code: 'INVALID_ARGUMENT', message: `Unknown method ${JSON.stringify(name)}.` };
}
