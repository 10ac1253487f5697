import type { ErrorCode } from '../api/errors.js';
import { serializeError } from '../common/errors.js';

/** OpenAI's error types (the `type` of `{error: {message, type, code}}`). */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'server_error';

/** A refusal of the local HTTP API: the status, and what each dialect says in its body. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: ApiErrorType;
  /** OpenAI-style snake_case code (`model_not_found`, `invalid_image`, ...). */
  readonly code: string;
  readonly param: string | null;

  constructor(
    status: number,
    type: ApiErrorType,
    code: string,
    message: string,
    param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }
}

export const badRequest = (code: string, message: string, param: string | null = null): ApiError =>
  new ApiError(400, 'invalid_request_error', code, message, param);

const IMAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'IMAGE_UNSUPPORTED',
  'IMAGE_CORRUPT',
  'IMAGE_TOO_LARGE',
  'IMAGE_TIMEOUT',
  'IMAGE_PROCESSING_FAILED',
]);

/** Engine states in which a retry shortly after succeeds (it restarts, loads or is busy). */
const RETRY_CODES: ReadonlySet<ErrorCode> = new Set([
  'ENGINE_CRASHED',
  'ENGINE_NOT_LOADED',
  'MODEL_LOAD_FAILED',
  'MMPROJ_LOAD_FAILED',
  'CONTEXT_CREATE_FAILED',
  'CONTEXT_BUSY',
]);

/** Any failure as the API reports it: typed app errors keep their meaning, the rest are 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const { code, message } = serializeError(error);
  if (IMAGE_CODES.has(code)) return badRequest('invalid_image', `Image refused: ${message}`);
  if (code === 'CONTEXT_FULL') return badRequest('context_length_exceeded', message);
  if (code === 'INVALID_ARGUMENT') return badRequest('invalid_request', message);
  if (code === 'REQUEST_TOO_LARGE') {
    return new ApiError(413, 'request_too_large', 'request_too_large', message);
  }
  if (code === 'MODEL_NOT_INSTALLED' || code === 'MODEL_NOT_FOUND') {
    return new ApiError(404, 'not_found_error', 'model_not_found', message);
  }
  if (RETRY_CODES.has(code)) {
    return new ApiError(503, 'server_error', code.toLowerCase(), message);
  }
  return new ApiError(500, 'server_error', code.toLowerCase(), message);
}

/** OpenAI's error body. */
export function openAiErrorBody(error: ApiError): {
  error: { message: string; type: string; code: string; param: string | null };
} {
  return {
    error: { message: error.message, type: error.type, code: error.code, param: error.param },
  };
}

/** Ollama's error body. */
export function ollamaErrorBody(error: ApiError): { error: string } {
  return { error: error.message };
}
