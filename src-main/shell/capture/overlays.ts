import { BrowserWindow, ipcMain, type IpcMainEvent } from 'electron';
import { APP_ORIGIN } from '../../url-schemes/app-url.js';
import { bridgeArguments, CAPTURE_CHANNELS } from '../bridge-channels.js';
import { isTrustedSender } from '../ipc-guard.js';
import { senderInfo } from '../ipc.js';
import { hardenedWebPreferences } from '../window-options.js';
import type { WindowRegistry } from '../window-registry.js';
import { overlaySelectSchema, type OverlaySelection } from '../../capture/messages.js';
import { OVERLAY_PATH } from '../../capture/pages.js';
import type { DisplayCapture } from './screen-capture.js';

export interface OverlayChoice {
  capture: DisplayCapture;
  selection: OverlaySelection;
}

/**
 * One transparent, frameless, always-on-top window over each captured display. Resolves with the
 * display and region the user picked, or undefined when they cancelled (Esc, or focus moved away).
 */
export function pickRegion(
  captures: DisplayCapture[],
  preloadPath: string,
  windows: WindowRegistry,
): Promise<OverlayChoice | undefined> {
  return new Promise((resolve) => {
    const byContents = new Map<number, { window: BrowserWindow; capture: DisplayCapture }>();
    let done = false;
    const finish = (choice: OverlayChoice | undefined): void => {
      if (done) return;
      done = true;
      ipcMain.removeListener(CAPTURE_CHANNELS.overlaySelect, onSelect);
      ipcMain.removeListener(CAPTURE_CHANNELS.overlayCancel, onCancel);
      for (const [id, { window }] of byContents) {
        windows.remove(id);
        if (!window.isDestroyed()) window.destroy();
      }
      resolve(choice);
    };
    const trusted = (event: IpcMainEvent): boolean =>
      isTrustedSender(senderInfo(event), { webContentsIds: windows.ids('overlay') }) &&
      byContents.has(event.sender.id);
    const onSelect = (event: IpcMainEvent, payload: unknown): void => {
      if (!trusted(event)) return;
      const parsed = overlaySelectSchema.safeParse(payload);
      const entry = byContents.get(event.sender.id);
      if (!parsed.success || !entry) return;
      finish({ capture: entry.capture, selection: parsed.data });
    };
    const onCancel = (event: IpcMainEvent): void => {
      if (trusted(event)) finish(undefined);
    };
    ipcMain.on(CAPTURE_CHANNELS.overlaySelect, onSelect);
    ipcMain.on(CAPTURE_CHANNELS.overlayCancel, onCancel);

    for (const capture of captures) {
      const { bounds } = capture.display;
      const window = new BrowserWindow({
        ...bounds,
        frame: false,
        transparent: true,
        backgroundColor: '#00000000',
        alwaysOnTop: true,
        skipTaskbar: true,
        resizable: false,
        movable: false,
        minimizable: false,
        maximizable: false,
        fullscreenable: false,
        hasShadow: false,
        enableLargerThanScreen: true,
        show: false,
        webPreferences: {
          ...hardenedWebPreferences(preloadPath),
          spellcheck: false,
          additionalArguments: bridgeArguments('overlay', [], []),
        },
      });
      window.setAlwaysOnTop(true, 'screen-saver');
      window.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
      byContents.set(window.webContents.id, { window, capture });
      windows.add(window.webContents.id, 'overlay');
      window.on('closed', () => finish(undefined));
      window.once('ready-to-show', () => {
        window.setBounds(bounds);
        window.show();
        if (capture.display.id === captures[0]?.display.id) window.focus();
      });
      void window.loadURL(`${APP_ORIGIN}${OVERLAY_PATH}`);
    }
  });
}
