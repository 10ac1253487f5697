// Sandboxed preload of every window. The page gets only `window.llavaDesk` (the API contract:
// invoke, on, platform, getPathForFile): never ipcRenderer, never an IPC event object. The capture
// windows expose nothing; their UI is wired here, in the preload's isolated world.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createBridge } from './bridge.js';
import { CAPTURE_CHANNELS, readBridgeArguments } from './bridge-channels.js';
import type { AskInfo, OverlaySelection } from '../capture/messages.js';
import { startAskWindow } from './ui/ask-ui.js';
import { startOverlay } from './ui/overlay-ui.js';

const config = readBridgeArguments(process.argv);

if (config?.role === 'main') {
  const api = createBridge(ipcRenderer, config, process.platform, (file) =>
    webUtils.getPathForFile(file),
  );
  contextBridge.exposeInMainWorld('llavaDesk', api);
} else if (config?.role === 'overlay') {
  startOverlay({
    select: (selection: OverlaySelection) =>
      ipcRenderer.send(CAPTURE_CHANNELS.overlaySelect, selection),
    cancel: () => ipcRenderer.send(CAPTURE_CHANNELS.overlayCancel),
  });
} else if (config?.role === 'ask') {
  startAskWindow(createBridge(ipcRenderer, config, process.platform), {
    info: async () => (await ipcRenderer.invoke(CAPTURE_CHANNELS.askInfo)) as AskInfo,
    continueInMain: (conversationId) =>
      ipcRenderer.send(CAPTURE_CHANNELS.askContinue, { conversationId }),
    close: () => ipcRenderer.send(CAPTURE_CHANNELS.askClose),
  });
}
