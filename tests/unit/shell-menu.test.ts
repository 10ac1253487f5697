import { describe, expect, it } from 'vitest';
import { menuTemplate, type MenuActions } from '../../src-main/shell/menu-template.js';
import { captureHelpText } from '../../src-main/capture/help-text.js';

// Electron's menu item type, taken from the template builder (tests may not import 'electron').
type MenuItemConstructorOptions = ReturnType<typeof menuTemplate>[number];

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [
    item,
    ...(Array.isArray(item.submenu) ? flatten(item.submenu) : []),
  ]);
}

function template(platform: NodeJS.Platform, isPackaged: boolean) {
  const called: string[] = [];
  const actions: MenuActions = {
    captureRegion: () => called.push('capture'),
    openDataFolder: () => called.push('data'),
    captureHelp: () => called.push('help'),
    about: () => called.push('about'),
  };
  const items = flatten(
    menuTemplate({
      platform,
      isPackaged,
      captureAccelerator: 'CommandOrControl+Shift+Space',
      actions,
    }),
  );
  return { items, called };
}

describe('app menu', () => {
  it('has the standard roles', () => {
    const roles = template('linux', true)
      .items.map((item) => item.role)
      .filter(Boolean);
    expect(roles).toEqual(
      expect.arrayContaining(['editMenu', 'windowMenu', 'help', 'quit', 'togglefullscreen']),
    );
    const mac = template('darwin', true).items.map((item) => item.role);
    expect(mac[0]).toBe('appMenu');
    expect(mac).toContain('close');
  });

  it('offers developer tools only in development', () => {
    expect(template('linux', true).items.some((i) => i.role === 'toggleDevTools')).toBe(false);
    expect(template('linux', false).items.some((i) => i.role === 'toggleDevTools')).toBe(true);
  });

  it("wires the app's actions and shows the capture shortcut without registering it twice", () => {
    const { items, called } = template('linux', true);
    const byId = (id: string) => items.find((item) => item.id === id);
    const capture = byId('capture-region');
    expect(capture).toMatchObject({
      accelerator: 'CommandOrControl+Shift+Space',
      registerAccelerator: false,
    });
    for (const id of ['capture-region', 'open-data-folder', 'capture-help', 'about']) {
      const click = byId(id)?.click as (() => void) | undefined;
      click?.();
    }
    expect(called).toEqual(['capture', 'data', 'help', 'about']);
  });

  it('explains screen capture per platform', () => {
    expect(captureHelpText('/x', 'darwin')).toContain('Screen & System Audio Recording');
    expect(captureHelpText('/x', 'win32', 'Ctrl+Alt+A')).toContain('Press Ctrl+Alt+A');
    expect(captureHelpText('/x', 'win32')).toContain('Esc cancels');
  });
});
