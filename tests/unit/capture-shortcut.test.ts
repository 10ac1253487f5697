import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CAPTURE_SHORTCUT,
  describeShortcut,
  parseShortcut,
} from '../../src-main/capture/shortcut.js';

function accelerator(text: string, platform: NodeJS.Platform = 'linux'): string {
  const result = parseShortcut(text, platform);
  if (!result.ok) throw new Error(result.error);
  return result.shortcut.accelerator;
}

function error(text: string, platform: NodeJS.Platform = 'linux'): string {
  const result = parseShortcut(text, platform);
  if (result.ok) throw new Error(`accepted ${text}`);
  return result.error;
}

describe('shortcut parsing', () => {
  it('accepts the default on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(accelerator(DEFAULT_CAPTURE_SHORTCUT, platform)).toBe('CommandOrControl+Shift+Space');
    }
  });

  it('canonicalises aliases, case and modifier order', () => {
    expect(accelerator('shift+cmdorctrl+space')).toBe('CommandOrControl+Shift+Space');
    expect(accelerator('Ctrl+Alt+a')).toBe('Control+Alt+A');
    expect(accelerator('Option+Meta+esc', 'darwin')).toBe('Alt+Super+Escape');
    expect(accelerator('Ctrl+enter')).toBe('Control+Return');
    expect(accelerator('Ctrl+Shift+Plus')).toBe('Control+Shift+Plus');
    expect(accelerator('Alt+F4')).toBe('Alt+F4');
    expect(accelerator('Super+/')).toBe('Super+/');
    expect(accelerator('Ctrl+num5')).toBe('Control+num5');
    expect(accelerator(' Ctrl+1 ')).toBe('Control+1');
  });

  it('allows a lone key only where nobody types it', () => {
    expect(accelerator('PrintScreen')).toBe('PrintScreen');
    expect(accelerator('F13')).toBe('F13');
    expect(error('F5')).toMatch(/steal typing/);
    expect(error('Shift+A')).toMatch(/steal typing/);
    expect(error('A')).toMatch(/steal typing/);
  });

  it('refuses malformed shortcuts with a reason', () => {
    expect(error('')).toMatch(/empty/);
    expect(error('Ctrl + A')).toMatch(/without spaces/);
    expect(error('Ctrl++')).toMatch(/Plus/);
    expect(error('Ctrl+')).toMatch(/Plus/);
    expect(error('Hyper+A')).toMatch(/not a modifier/);
    expect(error('Ctrl+Ctrl+A')).toMatch(/twice/);
    expect(error('Ctrl+Control+A')).toMatch(/twice/);
    expect(error('Ctrl+Shift')).toMatch(/needs a key/);
    expect(error('Ctrl+Banana')).toMatch(/not a key/);
    expect(error('Ctrl+F25')).toMatch(/not a key/);
    expect(error('Command+A', 'win32')).toMatch(/only on macOS/);
    expect(error('CmdOrCtrl+Ctrl+A')).toMatch(/already/);
  });

  it('shows shortcuts the way each platform writes them', () => {
    const parsed = parseShortcut('CmdOrCtrl+Shift+Space', 'darwin');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(describeShortcut(parsed.shortcut, 'darwin')).toBe('⌘⇧Space');
    expect(describeShortcut(parsed.shortcut, 'linux')).toBe('Ctrl+Shift+Space');
  });
});
