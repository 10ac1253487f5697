import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DESKTOP_SETTINGS_FILE,
  DesktopSettingsStore,
  readDesktopSettings,
} from '../../src-main/shell/desktop-settings.js';
import { restoreWindowState } from '../../src-main/shell/window-state.js';

const laptop = { x: 0, y: 0, width: 1440, height: 875 };
const monitor = { x: 1440, y: 0, width: 2560, height: 1415 };

describe('window state', () => {
  it('reopens where it was left on a connected display', () => {
    expect(
      restoreWindowState({ x: 1600, y: 100, width: 1400, height: 900, maximized: false }, [
        laptop,
        monitor,
      ]),
    ).toEqual({
      x: 1600,
      y: 100,
      width: 1400,
      height: 900,
      maximized: false,
    });
  });

  it('forgets the position when its display is gone', () => {
    const state = restoreWindowState(
      { x: 1600, y: 100, width: 1400, height: 900, maximized: true },
      [laptop],
    );
    expect(state).toEqual({ width: 1400, height: 875, maximized: true });
  });

  it('keeps a window whose title bar is still partly reachable', () => {
    expect(restoreWindowState({ x: -1000, y: 10, width: 1200, height: 800 }, [laptop]).x).toBe(
      -1000,
    );
    expect(
      restoreWindowState({ x: -1190, y: 10, width: 1200, height: 800 }, [laptop]).x,
    ).toBeUndefined();
    expect(
      restoreWindowState({ x: 10, y: 870, width: 1200, height: 800 }, [laptop]).x,
    ).toBeUndefined();
  });

  it('uses defaults for missing or hand-broken values and respects the minimum size', () => {
    expect(restoreWindowState(undefined, [monitor])).toEqual({
      width: 1280,
      height: 800,
      maximized: false,
    });
    expect(
      restoreWindowState({ width: 'big', height: 10, x: Number.NaN, y: 0 }, [monitor]),
    ).toEqual({
      width: 1280,
      height: 480,
      maximized: false,
    });
    expect(
      restoreWindowState({ width: 100_000, height: 100_000 }, [laptop, monitor]),
    ).toMatchObject({
      width: 2560,
      height: 1415,
    });
    expect(restoreWindowState({ width: 900, height: 700 }, [])).toMatchObject({
      width: 900,
      height: 700,
    });
  });
});

describe('desktop settings file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llava-desk-desktop-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps valid fields one by one', () => {
    expect(
      readDesktopSettings({
        schemaVersion: 1,
        settings: { captureShortcut: 'Ctrl+Alt+A', window: { width: 'x' }, captureEnabled: 'yes' },
      }),
    ).toEqual({ captureShortcut: 'Ctrl+Alt+A' });
    expect(readDesktopSettings(null)).toEqual({});
    expect(readDesktopSettings({ captureEnabled: false })).toEqual({ captureEnabled: false });
  });

  it('writes its own file in the data folder and merges updates', async () => {
    await writeFile(join(dir, 'settings.json'), '{"schemaVersion":1,"settings":{"maxTokens":9}}');
    const store = new DesktopSettingsStore(dir);
    expect(await store.open()).toEqual({});
    await Promise.all([
      store.update({ captureShortcut: 'Ctrl+Alt+A' }),
      store.update({ window: { width: 900, height: 700, maximized: false } }),
    ]);
    const reopened = new DesktopSettingsStore(dir);
    expect(await reopened.open()).toEqual({
      captureShortcut: 'Ctrl+Alt+A',
      window: { width: 900, height: 700, maximized: false },
    });
    expect(reopened.file).toBe(join(dir, DESKTOP_SETTINGS_FILE));
    // The core's settings file is left alone.
    expect(await readFile(join(dir, 'settings.json'), 'utf8')).toContain('"maxTokens":9');
  });

  it('opens a corrupt file as empty', async () => {
    await writeFile(join(dir, DESKTOP_SETTINGS_FILE), '{not json');
    expect(await new DesktopSettingsStore(dir).open()).toEqual({});
  });
});
