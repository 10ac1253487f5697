import type { MenuItemConstructorOptions } from 'electron';

// The app menu as data (type-only import of 'electron'), so the unit test checks its roles and
// actions under Node.

export interface MenuActions {
  captureRegion(): void;
  openDataFolder(): void;
  captureHelp(): void;
  about(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  isPackaged: boolean;
  /** The capture shortcut, shown next to its menu item; undefined when none is registered. */
  captureAccelerator: string | undefined;
  actions: MenuActions;
}

export function menuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const { actions } = options;
  const mac = options.platform === 'darwin';
  const capture: MenuItemConstructorOptions = {
    id: 'capture-region',
    label: 'Ask About a Screen Region…',
    click: () => actions.captureRegion(),
    ...(options.captureAccelerator
      ? { accelerator: options.captureAccelerator, registerAccelerator: false }
      : {}),
  };
  const view: MenuItemConstructorOptions[] = [
    ...(options.isPackaged
      ? []
      : ([{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as const)),
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  return [
    ...(mac ? [{ role: 'appMenu' } as const] : []),
    {
      label: 'File',
      submenu: [
        capture,
        {
          id: 'open-data-folder',
          label: 'Open Data Folder',
          click: () => actions.openDataFolder(),
        },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { id: 'capture-help', label: 'Screen Capture Help', click: () => actions.captureHelp() },
        ...(mac ? [] : [{ id: 'about', label: 'About llava-desk', click: () => actions.about() }]),
      ],
    },
  ];
}
