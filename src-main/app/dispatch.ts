import type { ApiResponse, MethodName } from '../api/contract.js';
import { validateCall } from '../api/validate-call.js';
import { serializeError } from '../common/errors.js';
import { reportBug } from '../common/report-bug.js';
import { toStorageError } from '../common/storage-errors.js';
import type { AppCore } from './app-core.js';

/**
 * The one entry every transport calls (WebSocket in web mode, IPC in the desktop app): unknown
 * methods and params that fail their schema are refused by `validateCall` before any service
 * sees them; every outcome becomes an `ApiResponse` with errors as `{code, message}`; it never
 * rejects.
 */
export function createDispatcher(
  core: Pick<AppCore, 'call'>,
): (method: unknown, params: unknown) => Promise<ApiResponse> {
  return async (method, params) => {
    const call = validateCall(method, params);
    if (!call.ok) return call;
    try {
      const value = await core.call<MethodName>(call.value.method, call.value.params);
      return { ok: true, value };
    } catch (error) {
      // A disk that refused a write becomes STORAGE_UNAVAILABLE / DISK_FULL, whichever service
      // it came through; anything still untyped is a bug, logged and answered INTERNAL.
      const serialized = serializeError(toStorageError(error));
      if (serialized.code === 'INTERNAL') reportBug(call.value.method, error);
      return { ok: false, error: serialized };
    }
  };
}
