// Sandboxed preload: exposes a fixed, typed surface to the renderer, never ipcRenderer itself.
import { contextBridge } from 'electron';

const api = {
  platform: process.platform,
} as const;

contextBridge.exposeInMainWorld('llavaDesk', api);

export type PreloadApi = typeof api;
