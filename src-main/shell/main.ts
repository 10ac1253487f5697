// Electron main process: composes the core (src-main/app) and serves it to hardened windows over
// validated IPC; the engine runs in a utility process; screenshot-and-ask hangs off a global
// shortcut. Everything that can be plain logic lives outside this folder or in plain files here.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, Menu, shell, type BrowserWindow } from 'electron';
import { API_EVENTS, API_METHODS } from '../api/contract.js';
import { AppCore } from '../app/app-core.js';
import { createDispatcher } from '../app/dispatch.js';
import {
  CAPTURE_ARGUMENT,
  displayServer,
  MAC_SCREEN_SETTINGS_URL,
} from '../capture/platform-guidance.js';
import { DEFAULT_CAPTURE_SHORTCUT } from '../capture/shortcut.js';
import { resolveDataDir, dataLayout } from '../common/data-dir.js';
import { HF_TOKEN_ENV, hfBaseUrl } from '../models/download/resolve-uri.js';
import { openAttachPoint } from '../server/api-listener.js';
import { APP_INDEX_URL } from '../url-schemes/app-url.js';
import { apiBackendOf } from '../server/app-api-backend.js';
import { LocalApiServer } from '../server/local-api-server.js';
import { bridgeArguments } from './bridge-channels.js';
import { CaptureFlow } from './capture/flow.js';
import { registerCaptureHotkey, unregisterCaptureHotkey } from './capture/hotkey.js';
import { captureHelpText } from '../capture/help-text.js';
import { DesktopSettingsStore } from './desktop-settings.js';
import { registerApi } from './ipc.js';
import { createMainWindow } from './main-window.js';
import { menuTemplate } from './menu-template.js';
import { handleProtocols, registerPrivilegedSchemes } from './url-schemes.js';
import { applySessionPolicy } from './session-policy.js';
import { utilityLauncher } from './utility-launcher.js';
import { guardContents } from './window-guards.js';
import { WindowRegistry } from './window-registry.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const preloadPath = join(here, '../preload/index.cjs');
const rendererDir = join(here, '../renderer');
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const executable = process.env['APPIMAGE'] ?? process.execPath;

registerPrivilegedSchemes();
if (displayServer(process.platform) === 'wayland') {
  // Global shortcuts on Wayland go through the desktop portal (where the desktop offers it).
  app.commandLine.appendSwitch('enable-features', 'GlobalShortcutsPortal');
}
app.on('web-contents-created', (_event, contents) => guardContents(contents));

const windows = new WindowRegistry();
let mainWindow: BrowserWindow | undefined;
let core: AppCore | undefined;
let flow: CaptureFlow | undefined;
/** The opt-in "Local API server" (OpenAI and Ollama dialects on 127.0.0.1). */
let localApi: LocalApiServer | undefined;
let openMainWindow: (() => void) | undefined;
/** Closes the loopback API that `llava-desk ask` / `describe` attach to. */
let closeAttachPoint: (() => Promise<void>) | undefined;

function showMainWindow(): void {
  if (!mainWindow || mainWindow.isDestroyed()) openMainWindow?.();
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function notify(message: string, kind: 'info' | 'permission'): void {
  const buttons = kind === 'permission' ? ['Open System Settings', 'Close'] : ['OK'];
  const options = { type: 'warning' as const, title: 'llava-desk', message, buttons };
  const shown =
    mainWindow && !mainWindow.isDestroyed()
      ? dialog.showMessageBox(mainWindow, options)
      : dialog.showMessageBox(options);
  void shown.then(({ response }) => {
    if (kind === 'permission' && response === 0) void shell.openExternal(MAC_SCREEN_SETTINGS_URL);
  });
}

/** The system's folder chooser, attached to the main window when there is one. */
async function pickFolder(title: string): Promise<string | undefined> {
  const options: Electron.OpenDialogOptions = {
    title,
    properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'],
  };
  const chosen =
    mainWindow && !mainWindow.isDestroyed()
      ? await dialog.showOpenDialog(mainWindow, options)
      : await dialog.showOpenDialog(options);
  return chosen.canceled ? undefined : chosen.filePaths[0];
}

async function start(): Promise<void> {
  const dataDir = resolveDataDir(undefined, process.env);
  applySessionPolicy(devServerUrl);
  handleProtocols({ rendererDir, imagesDir: dataLayout(dataDir).images });
  const desktop = new DesktopSettingsStore(dataDir);
  const token = process.env[HF_TOKEN_ENV];
  const opened = await AppCore.open({
    dataDir,
    mode: 'electron',
    // The bundle lives in out/main/, so module-relative defaults do not apply: name it.
    catalogPath: join(app.getAppPath(), 'models', 'catalog.json'),
    hfBaseUrl: hfBaseUrl(process.env),
    ...(token !== undefined && token !== '' ? { hfToken: token } : {}),
    engineLauncher: () => utilityLauncher(),
    pickFolder,
    applySettings: async (next) => localApi?.apply(next),
  });
  core = opened;
  localApi = new LocalApiServer(apiBackendOf(opened));
  // A port taken at start is said once; the app runs without the API until the setting changes.
  await localApi.apply(await opened.call('settings.get', {})).catch((error: unknown) => {
    notify(error instanceof Error ? error.message : String(error), 'info');
  });
  await desktop.open();
  const dispatch = createDispatcher(opened);
  registerApi(
    { dispatch, subscribe: (listener) => opened.subscribe(listener) },
    windows,
    devServerUrl,
  );
  // `llava-desk ask` and `describe` of this data folder run through this app's loaded model; a
  // failure here costs only that (the CLI then loads its own engine).
  void openAttachPoint(dataDir, { dispatch, subscribe: (listener) => opened.subscribe(listener) })
    .then((point) => {
      closeAttachPoint = point.close;
    })
    .catch((error: unknown) => console.error('llava-desk: no attach point for the CLI:', error));

  openMainWindow = (): void => {
    const window = createMainWindow({
      preloadPath,
      additionalArguments: bridgeArguments('main', API_METHODS, API_EVENTS),
      url: devServerUrl ?? APP_INDEX_URL,
      settings: desktop,
    });
    const id = window.webContents.id;
    windows.add(id, 'main');
    window.on('closed', () => {
      windows.remove(id);
      if (mainWindow === window) mainWindow = undefined;
    });
    mainWindow = window;
  };
  openMainWindow();

  flow = new CaptureFlow({
    preloadPath,
    windows,
    dispatch,
    notify,
    continueInMain: (conversationId) => {
      showMainWindow();
      // The sidebar refreshes and lists the conversation first (it was just written to).
      opened.events.emit('chats.changed', { conversationId });
    },
  });
  const capture = (): void => void flow?.run();

  let accelerator: string | undefined;
  let shortcutLabel: string | undefined;
  if (desktop.current.captureEnabled !== false) {
    const hotkey = registerCaptureHotkey(
      desktop.current.captureShortcut ?? DEFAULT_CAPTURE_SHORTCUT,
      capture,
      executable,
    );
    if (hotkey.ok) {
      accelerator = hotkey.accelerator;
      shortcutLabel = hotkey.label;
    } else mainWindow?.once('show', () => notify(hotkey.message, 'info'));
  }
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        platform: process.platform,
        isPackaged: app.isPackaged,
        captureAccelerator: accelerator,
        actions: {
          captureRegion: capture,
          openDataFolder: () => void shell.openPath(dataDir),
          captureHelp: () =>
            notify(captureHelpText(executable, process.platform, shortcutLabel), 'info'),
          about: () => app.showAboutPanel(),
        },
      }),
    ),
  );
  if (process.argv.includes(CAPTURE_ARGUMENT)) capture();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv) => {
    // `llava-desk --capture` from a desktop shortcut: the Wayland workaround for global hotkeys.
    if (argv.includes(CAPTURE_ARGUMENT)) void flow?.run();
    else showMainWindow();
  });
  void app.whenReady().then(async () => {
    try {
      await start();
    } catch (error) {
      dialog.showErrorBox(
        'llava-desk could not start',
        error instanceof Error ? error.message : String(error),
      );
      app.exit(1);
    }
    // macOS: clicking the dock icon with no window open brings the main window back.
    app.on('activate', () => showMainWindow());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed || !core) return;
    // Let the core stop answers (keeping partial text) and end the engine before exiting.
    event.preventDefault();
    unregisterCaptureHotkey();
    const closing = core;
    void (closeAttachPoint?.() ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => Promise.all([closing.close(), localApi?.close()]))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
}
