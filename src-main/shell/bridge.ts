import type { ApiResponse, PreloadBridge } from '../api/contract.js';
import { unknownMethodError } from '../api/errors.js';
import { eventChannel, invokeChannel, type BridgeConfig } from './bridge-channels.js';

// Builds `window.llavaDesk` from an ipcRenderer-like object. Plain so that unit tests can drive
// it with a fake: the preload passes Electron's ipcRenderer, which itself never reaches the page.

export type IpcListener = (event: unknown, ...args: unknown[]) => void;

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: IpcListener): unknown;
  removeListener(channel: string, listener: IpcListener): unknown;
}

function refused(message: string): ApiResponse {
  return { ok: false, error: { code: 'USAGE', message } };
}

function isResponse(value: unknown): value is ApiResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ok?: unknown }).ok === 'boolean'
  );
}

export function createBridge(
  ipc: IpcRendererLike,
  config: BridgeConfig,
  platform: string,
  getPathForFile?: (file: File) => string,
): PreloadBridge {
  const bridge: PreloadBridge = {
    platform,
    async invoke(method: string, params: unknown): Promise<ApiResponse> {
      if (typeof method !== 'string' || !config.methods.has(method)) {
        // The same refusal the dispatcher gives (validateCall), without bundling the contract.
        return { ok: false, error: unknownMethodError(method) };
      }
      try {
        const answer = await ipc.invoke(invokeChannel(method), params);
        return isResponse(answer) ? answer : refused('malformed answer from the app');
      } catch (error) {
        // Only reached when the main process has no handler or cloning failed.
        return { ok: false, error: { code: 'INTERNAL', message: String(error) } };
      }
    },
    on(event: string, listener: (payload: unknown) => void): () => void {
      if (typeof event !== 'string' || !config.events.has(event)) {
        throw new Error(`unknown event ${String(event)}`);
      }
      if (typeof listener !== 'function') throw new Error('the listener must be a function');
      const channel = eventChannel(event);
      // The IpcRendererEvent (with its sender) never reaches the page: only the payload does.
      const wrapped: IpcListener = (_event, payload) => listener(payload);
      ipc.on(channel, wrapped);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipc.removeListener(channel, wrapped);
      };
    },
  };
  if (getPathForFile) bridge.getPathForFile = (file: File) => getPathForFile(file);
  return bridge;
}
