import { isErrorCode, type ErrorCode, type SerializedError } from '../api/errors.js';

export class LlavaDeskError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlavaDeskError';
    this.code = code;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message };
  }
}

/** Turns anything thrown into the serialisable `{code, message}` shape. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof LlavaDeskError) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  // Errors of the native bridge and of libraries carry a string `code` of their own.
  const code = (error as { code?: unknown } | null)?.code;
  return { code: isErrorCode(code) ? code : 'INTERNAL', message };
}
