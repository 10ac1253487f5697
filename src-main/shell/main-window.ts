import { BrowserWindow, screen } from 'electron';
import type { DesktopSettingsStore } from './desktop-settings.js';
import { MIN_WINDOW_SIZE, restoreWindowState, type WindowState } from './window-state.js';
import { hardenedWebPreferences } from './window-options.js';

export interface MainWindowOptions {
  preloadPath: string;
  additionalArguments: string[];
  url: string;
  settings: DesktopSettingsStore;
  icon?: string | undefined;
}

/** The main window, reopened where it was left (when that place is still on a display). */
export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const state = restoreWindowState(
    options.settings.current.window,
    screen.getAllDisplays().map((display) => display.workArea),
  );
  const window = new BrowserWindow({
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    show: false,
    title: 'llava-desk',
    ...(options.icon ? { icon: options.icon } : {}),
    webPreferences: {
      ...hardenedWebPreferences(options.preloadPath),
      additionalArguments: options.additionalArguments,
    },
  });
  if (state.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  rememberBounds(window, options.settings);
  void window.loadURL(options.url);
  return window;
}

function rememberBounds(window: BrowserWindow, settings: DesktopSettingsStore): void {
  let timer: NodeJS.Timeout | undefined;
  const save = (): void => {
    if (window.isDestroyed() || window.isMinimized() || window.isFullScreen()) return;
    // Normal bounds, so a maximised window comes back maximised over its old size.
    const bounds = window.getNormalBounds();
    const state: WindowState = { ...bounds, maximized: window.isMaximized() };
    void settings.update({ window: state }).catch(() => undefined);
  };
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  window.on('resize', later);
  window.on('move', later);
  window.on('maximize', save);
  window.on('unmaximize', save);
  window.on('close', () => {
    clearTimeout(timer);
    save();
  });
}
