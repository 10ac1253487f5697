import type { ApiResponse } from '../api/contract.js';
import { isAppPageUrl } from '../url-schemes/app-url.js';

// Checks every IPC message before the core sees it (after VS Code's validatedIpcMain): the
// sender must be the main frame of one of our own windows showing one of our own pages. The
// method and params are then checked where every transport's calls are, by the dispatcher's
// validateCall (src-main/api/validate-call.ts). Plain, so the rules are unit-tested.

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
 * One API call as the IPC handler runs it: sender check, then the dispatcher, which validates the
 * method and params (the one validation step of both transports). The core's own errors come back
 * as `{ok: false, error}` from `dispatch` (ipcMain.handle would keep only the message of a thrown
 * error).
 */
export async function guardedCall(
  call: GuardedCall,
  policy: TrustPolicy,
  dispatch: (method: string, params: unknown) => Promise<ApiResponse>,
): Promise<ApiResponse> {
  if (!isTrustedSender(call.sender, policy)) return UNTRUSTED_SENDER;
  try {
    return await dispatch(call.method, call.params);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'INTERNAL', message } };
  }
}
