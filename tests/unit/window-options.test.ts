import { describe, expect, it } from 'vitest';
import { hardenedWebPreferences, isSafeExternalUrl } from '../../src-main/shell/window-options.js';

describe('window hardening', () => {
  it('isolates and sandboxes the renderer with no Node integration', () => {
    const prefs = hardenedWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
    });
  });

  it('opens only http(s) links externally', () => {
    expect(isSafeExternalUrl('https://example.com/a')).toBe(true);
    expect(isSafeExternalUrl('http://example.com')).toBe(true);
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'nope']) {
      expect(isSafeExternalUrl(url), url).toBe(false);
    }
  });
});
