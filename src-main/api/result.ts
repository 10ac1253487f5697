import type { SerializedError } from './errors.js';

/**
 * The one success-or-failure envelope of the project: API responses on both transports, the
 * engine's per-request batch outcomes, the HEIC decoder's answer and call validation all use it.
 * The error defaults to the serialisable `{code, message}`; a layer whose failures are not yet
 * API errors (the HEIC worker's reasons) names its own error type.
 */
export type Ok<T> = { ok: true; value: T };
export type Err<E = SerializedError> = { ok: false; error: E };
export type Result<T, E = SerializedError> = Ok<T> | Err<E>;
