import { METHOD_PARAMS, type MethodName, type ParsedParams } from './contract.js';
import { unknownMethodError } from './errors.js';
import type { Result } from './result.js';

/** A call whose method exists and whose params passed its schema (defaults applied). */
export type ValidCall = { [M in MethodName]: { method: M; params: ParsedParams<M> } }[MethodName];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(METHOD_PARAMS, name);
}

/**
 * The one validation step of every API call, whichever transport brought it (IPC in the desktop
 * app, the WebSocket in web mode; both reach it through app/dispatch.ts): an unknown method and
 * params that fail their schema are both INVALID_ARGUMENT, and the message names the field.
 */
export function validateCall(method: unknown, params: unknown): Result<ValidCall> {
  if (!isMethodName(method)) return { ok: false, error: unknownMethodError(method) };
  const parsed = METHOD_PARAMS[method].safeParse(params ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`)
      .join('; ');
    return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `${method}: ${issues}` } };
  }
  return { ok: true, value: { method, params: parsed.data } as ValidCall };
}
