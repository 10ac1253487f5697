import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { blankReason, detectBlankCapture } from '../../src-main/capture/blank-capture.js';
import { cropCapture } from '../../src-main/capture/crop.js';
import {
  blankCaptureMessage,
  captureCommand,
  displayServer,
  screenPermissionMessage,
  shortcutFailureMessage,
} from '../../src-main/capture/platform-guidance.js';
import { screenshotName } from '../../src-main/capture/naming.js';

async function png(
  width: number,
  height: number,
  rgba: [number, number, number, number],
): Promise<Uint8Array> {
  const [r, g, b, alpha] = rgba;
  return sharp({
    create: { width, height, channels: 4, background: { r, g, b, alpha: alpha / 255 } },
  })
    .png()
    .toBuffer();
}

describe('black and empty captures', () => {
  const size = { width: 10, height: 10 };
  it('decides from channel ranges', () => {
    const dark = { min: 0, max: 3 };
    const bright = { min: 0, max: 255 };
    expect(blankReason({ width: 0, height: 10 }, [bright])).toBe('empty');
    expect(blankReason(size, [])).toBe('empty');
    expect(blankReason(size, [dark, dark, dark])).toBe('black');
    expect(blankReason(size, [dark, dark, dark, { min: 255, max: 255 }])).toBe('black');
    expect(blankReason(size, [bright, bright, bright, { min: 0, max: 0 }])).toBe('transparent');
    expect(blankReason(size, [dark, bright, dark])).toBeUndefined();
    // A white document filling the screen is a real capture.
    expect(
      blankReason(size, [
        { min: 255, max: 255 },
        { min: 255, max: 255 },
        { min: 255, max: 255 },
      ]),
    ).toBeUndefined();
  });

  it('reads real PNG captures', async () => {
    expect(await detectBlankCapture(await png(64, 32, [0, 0, 0, 255]))).toBe('black');
    expect(await detectBlankCapture(await png(64, 32, [200, 10, 10, 0]))).toBe('transparent');
    expect(await detectBlankCapture(await png(64, 32, [255, 255, 255, 255]))).toBeUndefined();
    expect(await detectBlankCapture(new Uint8Array())).toBe('empty');
  });

  it('sees one bright pixel on a black screen as content', async () => {
    const raw = Buffer.alloc(50 * 40 * 3);
    raw.fill(255, (20 * 50 + 25) * 3, (20 * 50 + 26) * 3);
    const encoded = await sharp(raw, { raw: { width: 50, height: 40, channels: 3 } })
      .png()
      .toBuffer();
    expect(await detectBlankCapture(encoded)).toBeUndefined();
  });
});

describe('crop', () => {
  it('cuts the region out losslessly', async () => {
    // Left half red, right half blue; the crop straddles the border.
    const raw = Buffer.alloc(100 * 50 * 3);
    for (let y = 0; y < 50; y += 1) {
      for (let x = 0; x < 100; x += 1)
        raw.set(x < 50 ? [255, 0, 0] : [0, 0, 255], (y * 100 + x) * 3);
    }
    const source = await sharp(raw, { raw: { width: 100, height: 50, channels: 3 } })
      .png()
      .toBuffer();
    const cropped = await cropCapture(source, { x: 40, y: 10, width: 20, height: 5 });
    const { data, info } = await sharp(cropped).raw().toBuffer({ resolveWithObject: true });
    expect(info.format).toBe('raw');
    expect([info.width, info.height]).toEqual([20, 5]);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([
      ...data.subarray((info.width - 1) * info.channels, (info.width - 1) * info.channels + 3),
    ]).toEqual([0, 0, 255]);
  });

  it('refuses a region outside the image', async () => {
    const source = await png(10, 10, [1, 2, 3, 255]);
    await expect(cropCapture(source, { x: 5, y: 5, width: 10, height: 10 })).rejects.toThrow();
  });
});

describe('platform guidance', () => {
  it('detects Wayland sessions on Linux only', () => {
    expect(displayServer('linux', { XDG_SESSION_TYPE: 'wayland' })).toBe('wayland');
    expect(displayServer('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toBe('wayland');
    expect(displayServer('linux', { XDG_SESSION_TYPE: 'x11', DISPLAY: ':0' })).toBe('x11');
    expect(displayServer('darwin', { WAYLAND_DISPLAY: 'wayland-0' })).toBe('none');
  });

  it('gives the Wayland workaround when a shortcut cannot be registered', () => {
    const wayland = shortcutFailureMessage({
      shortcut: 'Ctrl+Shift+Space',
      server: 'wayland',
      executable: '/opt/llava-desk/llava-desk',
    });
    expect(wayland).toContain('Wayland');
    expect(wayland).toContain('"/opt/llava-desk/llava-desk" --capture');
    const taken = shortcutFailureMessage({
      shortcut: 'Ctrl+Shift+Space',
      server: 'x11',
      executable: 'x',
    });
    expect(taken).toContain('another app');
    expect(captureCommand('/a b/c')).toBe('"/a b/c" --capture');
  });

  it('explains the macOS screen-recording permission', () => {
    expect(screenPermissionMessage('granted')).toBeUndefined();
    expect(screenPermissionMessage('denied')).toContain('Screen & System Audio Recording');
    expect(screenPermissionMessage('restricted')).toContain('policy');
  });

  it('says why a capture came back black', () => {
    expect(blankCaptureMessage('black', 'linux', 'wayland')).toContain('xdg-desktop-portal');
    expect(blankCaptureMessage('empty', 'darwin', 'none')).toContain(
      'Screen & System Audio Recording',
    );
    expect(blankCaptureMessage('black', 'win32', 'none')).toContain('protected content');
  });

  it('names screenshots by local time', () => {
    expect(screenshotName(new Date(2026, 0, 2, 3, 4, 5))).toBe(
      'Screenshot 2026-01-02 03.04.05.png',
    );
  });
});
