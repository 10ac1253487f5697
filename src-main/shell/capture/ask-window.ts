import {
  BrowserWindow,
  ipcMain,
  type Display,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
} from 'electron';
import { API_EVENTS, API_METHODS } from '../../api/contract.js';
import { APP_ORIGIN } from '../../url-schemes/app-url.js';
import { imageUrl } from '../../url-schemes/image-url.js';
import {
  ASK_WINDOW_EVENTS,
  ASK_WINDOW_METHODS,
  bridgeArguments,
  CAPTURE_CHANNELS,
} from '../bridge-channels.js';
import { isTrustedSender } from '../ipc-guard.js';
import { senderInfo } from '../ipc.js';
import { hardenedWebPreferences } from '../window-options.js';
import type { WindowRegistry } from '../window-registry.js';
import { askContinueSchema, type AskInfo } from '../../capture/messages.js';
import { ASK_PATH } from '../../capture/pages.js';

const ASK_SIZE = { width: 440, height: 560 } as const;
const ASK_METHODS = API_METHODS.filter((m) => ASK_WINDOW_METHODS.includes(m));
const ASK_EVENTS = API_EVENTS.filter((e) => ASK_WINDOW_EVENTS.includes(e));

export interface AskWindowOptions {
  imageId: string;
  display: Display;
  preloadPath: string;
  windows: WindowRegistry;
  /** Shows the conversation in the main window. */
  continueInMain(conversationId: string): void;
}

let current: BrowserWindow | undefined;

/** The small always-on-top ask window for one crop (a new capture replaces the old window). */
export function openAskWindow(options: AskWindowOptions): BrowserWindow {
  if (current && !current.isDestroyed()) current.destroy();
  const area = options.display.workArea;
  const window = new BrowserWindow({
    width: ASK_SIZE.width,
    height: ASK_SIZE.height,
    x: Math.round(area.x + area.width - ASK_SIZE.width - 24),
    y: Math.round(area.y + 24),
    alwaysOnTop: true,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    title: 'Ask about the screenshot',
    show: false,
    webPreferences: {
      ...hardenedWebPreferences(options.preloadPath),
      additionalArguments: bridgeArguments('ask', ASK_METHODS, ASK_EVENTS),
    },
  });
  current = window;
  const id = window.webContents.id;
  options.windows.add(id, 'ask');
  const info: AskInfo = { imageId: options.imageId, imageUrl: imageUrl(options.imageId) };
  const fromThis = (event: IpcMainEvent | IpcMainInvokeEvent): boolean =>
    event.sender.id === id &&
    isTrustedSender(senderInfo(event), { webContentsIds: options.windows.ids('ask') });

  const onInfo = (event: IpcMainInvokeEvent): AskInfo | undefined =>
    fromThis(event) ? info : undefined;
  const onContinue = (event: IpcMainEvent, payload: unknown): void => {
    const parsed = askContinueSchema.safeParse(payload);
    if (!fromThis(event) || !parsed.success) return;
    options.continueInMain(parsed.data.conversationId);
    window.close();
  };
  const onClose = (event: IpcMainEvent): void => {
    if (fromThis(event)) window.close();
  };
  // One ask window at a time: the info handler is replaced with each new window.
  ipcMain.removeHandler(CAPTURE_CHANNELS.askInfo);
  ipcMain.handle(CAPTURE_CHANNELS.askInfo, onInfo);
  ipcMain.on(CAPTURE_CHANNELS.askContinue, onContinue);
  ipcMain.on(CAPTURE_CHANNELS.askClose, onClose);
  window.on('closed', () => {
    options.windows.remove(id);
    ipcMain.removeListener(CAPTURE_CHANNELS.askContinue, onContinue);
    ipcMain.removeListener(CAPTURE_CHANNELS.askClose, onClose);
    if (current === window) current = undefined;
  });
  window.once('ready-to-show', () => {
    window.show();
    window.focus();
  });
  void window.loadURL(`${APP_ORIGIN}${ASK_PATH}`);
  return window;
}
