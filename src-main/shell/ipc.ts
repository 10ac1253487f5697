import { ipcMain, webContents, type IpcMainInvokeEvent } from 'electron';
import { API_METHODS, type ApiResponse, type EventName } from '../api/contract.js';
import {
  ASK_WINDOW_EVENTS,
  ASK_WINDOW_METHODS,
  eventChannel,
  invokeChannel,
  rolesFor,
} from './bridge-channels.js';
import { guardedCall, type SenderInfo } from './ipc-guard.js';
import type { WindowRegistry } from './window-registry.js';

export interface ApiHost {
  dispatch(method: string, params: unknown): Promise<ApiResponse>;
  subscribe(listener: (name: EventName, payload: unknown) => void): () => void;
}

export function senderInfo(event: IpcMainInvokeEvent | Electron.IpcMainEvent): SenderInfo {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame?.url,
    isMainFrame: frame !== null && frame.parent === null,
  };
}

/**
 * One `ipcMain.handle` per contract method, each checking the sender (the main frame of our main
 * or ask window, on our own page); the dispatcher then validates the params (validateCall).
 * Core events go to those windows only. Returns the function that undoes all of it.
 */
export function registerApi(
  host: ApiHost,
  windows: WindowRegistry,
  devServerUrl: string | undefined,
): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(invokeChannel(method), (event, params: unknown) =>
      guardedCall(
        { method, params, sender: senderInfo(event) },
        { webContentsIds: windows.ids(...rolesFor(ASK_WINDOW_METHODS, method)), devServerUrl },
        (name, raw) => host.dispatch(name, raw),
      ),
    );
  }
  const unsubscribe = host.subscribe((name, payload) => {
    for (const id of windows.ids(...rolesFor(ASK_WINDOW_EVENTS, name))) {
      const contents = webContents.fromId(id);
      if (contents && !contents.isDestroyed()) contents.send(eventChannel(name), payload);
    }
  });
  return () => {
    unsubscribe();
    for (const method of API_METHODS) ipcMain.removeHandler(invokeChannel(method));
  };
}
