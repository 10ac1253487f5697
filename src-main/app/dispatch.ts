import {
  METHOD_PARAMS,
  type ApiResponse,
  type MethodName,
  type ParsedParams,
} from '../api/contract.js';
import { serializeError } from '../common/errors.js';
import { reportBug } from '../common/report-bug.js';
import { toStorageError } from '../common/storage-errors.js';
import type { AppCore } from './app-core.js';

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(METHOD_PARAMS, name);
}

/**
 * The one entry every transport calls (WebSocket in web mode, IPC in the desktop app): unknown
 * methods and params that fail their schema are refused before any service sees them; every
 * outcome becomes an `ApiResponse` with errors as `{code, message}`; it never rejects.
 */
export function createDispatcher(
  core: Pick<AppCore, 'call'>,
): (method: unknown, params: unknown) => Promise<ApiResponse> {
  return async (method, params) => {
    if (!isMethodName(method)) {
      return {
        ok: false,
        error: { code: 'INVALID_ARGUMENT', message: `Unknown method ${JSON.stringify(method)}.` },
      };
    }
    const parsed = METHOD_PARAMS[method].safeParse(params ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`)
        .join('; ');
      return {
        ok: false,
        error: { code: 'INVALID_ARGUMENT', message: `${method}: ${issues}` },
      };
    }
    try {
      const value = await core.call(method, parsed.data as ParsedParams<typeof method>);
      return { ok: true, value };
    } catch (error) {
      // A disk that refused a write becomes STORAGE_UNAVAILABLE / DISK_FULL, whichever service
      // it came through; anything still untyped is a bug, logged and answered INTERNAL.
      const serialized = serializeError(toStorageError(error));
      if (serialized.code === 'INTERNAL') reportBug(method, error);
      return { ok: false, error: serialized };
    }
  };
}
