import type { ZodType } from 'zod';
import type { ApiResponse } from '../api/contract.js';
import { isAppPageUrl } from '../url-schemes/app-url.js';

// Checks every IPC message before the core sees it (after VS Code's validatedIpcMain): the
// sender must be the main frame of one of our own windows showing one of our own pages, and the
// payload must match the contract's schema. Plain, so the rules are unit-tested.

export interface SenderInfo {
  /** webContents id of the sending window. */
  webContentsId: number;
  /** URL of the sending frame; undefined when the frame is gone. */
  frameUrl: string | undefined;
  /** False for iframes. */
  isMainFrame: boolean;
}

export interface TrustPolicy {
  /** The windows that may call this channel. */
  webContentsIds: ReadonlySet<number>;
  /** The dev server's URL in development (never in a packaged app). */
  devServerUrl?: string | undefined;
}

export function isTrustedSender(sender: SenderInfo, policy: TrustPolicy): boolean {
  if (!sender.isMainFrame || sender.frameUrl === undefined) return false;
  if (!policy.webContentsIds.has(sender.webContentsId)) return false;
  return isAppPageUrl(sender.frameUrl, policy.devServerUrl);
}

export type Validated<T> = { ok: true; value: T } | { ok: false; response: ApiResponse };

/** Validates a payload with a contract schema; the refusal says which field is wrong. */
export function validatePayload<T>(schema: ZodType<T>, payload: unknown): Validated<T> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return {
    ok: false,
    response: {
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: `${where}${issue?.message ?? 'invalid params'}` },
    },
  };
}

export const UNTRUSTED_SENDER: ApiResponse = {
  ok: false,
  error: { code: 'USAGE', message: 'This page may not call the app.' },
};

export interface GuardedCall {
  method: string;
  params: unknown;
  sender: SenderInfo;
}

/**
 * One API call as the IPC handler runs it: sender check, schema check, then the core. The core's
 * own errors come back as `{ok: false, error}` from `dispatch` (ipcMain.handle would keep only the
 * message of a thrown error).
 */
export async function guardedCall(
  call: GuardedCall,
  policy: TrustPolicy,
  schemas: Readonly<Record<string, ZodType>>,
  dispatch: (method: string, params: unknown) => Promise<ApiResponse>,
): Promise<ApiResponse> {
  if (!isTrustedSender(call.sender, policy)) return UNTRUSTED_SENDER;
  const schema = Object.hasOwn(schemas, call.method) ? schemas[call.method] : undefined;
  if (!schema) {
    return { ok: false, error: { code: 'USAGE', message: `unknown method ${call.method}` } };
  }
  const checked = validatePayload(schema, call.params);
  if (!checked.ok) return checked.response;
  try {
    return await dispatch(call.method, checked.value);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'INTERNAL', message } };
  }
}
